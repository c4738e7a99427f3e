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
    """

    def __init__(self, *args, setup: Callable[[Parser], None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup = setup

    def _complete(self) -> None:
        if self._setup is not None:
            setup, self._setup = self._setup, None
            setup(self)

    def parse_known_args(self, args=None, namespace=None):
        self._complete()
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
                setup: Callable[[Parser], None] | None = None) -> Parser:
    """A subcommand whose --help ends with its examples (kept as written)."""
    return subparsers.add_parser(name, help=help, description=description, epilog=examples, setup=setup,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)


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
