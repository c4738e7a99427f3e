"""The ``motionmag`` command line: one module per subcommand (magnify, analyze, train, render, flow,
synth), each with its examples, ``add_parser(subparsers)`` and what it runs.

Bad input (a missing or unreadable file, an empty video, a mask of the wrong size or with values
out of range, an alpha that is not finite, not > 0 or above the method's bound, an fps that is not
finite and > 0, an unwritable output) ends with one line on stderr and exit status 2 before any
output is created; no output file is left half-written, and an existing output is only replaced
once the new one is complete.
"""

from __future__ import annotations

import argparse
import sys

from motionmag import __version__
from motionmag.cli import analyze, flow, magnify, render, synth, train
from motionmag.cli._common import Parser
from motionmag.errors import MotionmagError

COMMANDS = (magnify, analyze, train, render, flow, synth)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="motionmag", description="Video motion magnification: FlowMag, Oh et al. 2018, linear and phase-based Eulerian methods.")
    parser.add_argument("--version", action="version", version=f"motionmag {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except MotionmagError as err:
        print(f"motionmag: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # permissions, a full disk, ...: still one line
        message = f"{err.filename}: {err.strerror}" if err.filename else str(err)
        print(f"motionmag: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("motionmag: interrupted", file=sys.stderr)
        return 130
    return 0


__all__ = ["build_parser", "main"]
