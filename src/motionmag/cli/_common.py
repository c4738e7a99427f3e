"""What every subcommand shares: the parser class, the device flag, KEY=VALUE and count arguments."""

from __future__ import annotations

import argparse
from typing import Callable

import yaml

from motionmag.errors import MotionmagError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2) instead of the usage dump.

    ``setup``: a function that adds the rest of the arguments, called the first time this parser
    parses or prints help, so that a subcommand whose arguments come from heavy modules (magnify's,
    from the methods' declarations, which import torch) costs nothing until it is used.
    ``prepare``: a function that rewrites the argument strings before they are parsed (a flag whose
    value is optional, such as ``--stabilize [x,y,w,h]``: see :func:`optional_value`).
    """

    def __init__(self, *args, setup: Callable[[Parser], None] | None = None,
                 prepare: Callable[[list[str]], list[str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup = setup
        self._prepare = prepare

    def _complete(self) -> None:
        if self._setup is not None:
            setup, self._setup = self._setup, None
            setup(self)

    def parse_known_args(self, args=None, namespace=None):
        self._complete()
        if self._prepare is not None and args is not None:
            args = self._prepare(list(args))
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._complete()
        return super().format_help()

    def format_usage(self) -> str:
        self._complete()
        return super().format_usage()

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def add_command(subparsers, name: str, *, help: str, description: str, examples: str,
                setup: Callable[[Parser], None] | None = None,
                prepare: Callable[[list[str]], list[str]] | None = None) -> Parser:
    """A subcommand whose --help ends with its examples (kept as written)."""
    return subparsers.add_parser(name, help=help, description=description, epilog=examples, setup=setup,
                                 prepare=prepare, formatter_class=argparse.RawDescriptionHelpFormatter)


def optional_value(args: list[str], flag: str, takes: Callable[[str], bool], bare: list[str]) -> list[str]:
    """Rewrite ``flag`` given without a value it ``takes`` into ``bare`` (argument strings).

    argparse gives an optional-valued flag (``--stabilize [x,y,w,h]``) the next argument whatever
    it is, so ``--stabilize clip.mp4`` would take the input for a region: here a flag followed by
    an argument it does not take (or by nothing) becomes ``bare`` (e.g. ``--stabilize=``, no value),
    and ``--flag=value`` and arguments after ``--`` are left as they are.
    """
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return out + args[i:]
        if arg == flag:
            following = args[i + 1] if i + 1 < len(args) else None
            if following is not None and takes(following):
                out += [arg, following]
                i += 2
                continue
            out += bare
        else:
            out.append(arg)
        i += 1
    return out


def region_like(text: str) -> bool:
    """Whether ``text`` is meant as a region: an ``x,y,w,h`` rectangle (anything with a comma,
    so that a malformed one gets its own error) or a mask file (.npy or an image)."""
    from pathlib import Path

    from motionmag.io.video import IMAGE_SUFFIXES

    return "," in text or Path(text).suffix.lower() in (".npy", *IMAGE_SUFFIXES)


def grid(text: str) -> tuple[int, int]:
    """``RxC`` (e.g. 3x3) -> (rows, cols), each at least 1."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        rows, cols = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ROWSxCOLS, e.g. 3x3, got {text!r}") from None
    if rows < 1 or cols < 1:
        raise argparse.ArgumentTypeError(f"a grid needs at least 1 row and 1 column, got {text!r}")
    return rows, cols


def key_value(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` -> (key with - as _, the value read as YAML)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip().replace("-", "_"), yaml.safe_load(value)


def non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def resolve_device(name: str) -> str:
    """``auto`` -> cuda when available, else cpu; any other name checked (one-line errors)."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise MotionmagError(f"unknown device {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise MotionmagError("--device cuda was asked for but no CUDA device is available")
    return name
