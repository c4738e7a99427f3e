"""Magnification methods behind one interface (``Magnifier.magnify(frames, alpha, mask=None)``).

    magnifier = get_magnifier("phase", mode="static")
    for frame in magnifier.magnify(frames, alpha=10):
        ...

alpha = output displacement / input displacement for every method; alpha 1 is the identity.
"""

from __future__ import annotations

from motionmag.errors import MotionmagError
from motionmag.methods.base import Magnifier
from motionmag.methods.linear import LinearMagnifier
from motionmag.methods.phase import PhaseMagnifier

_METHODS: dict[str, type[Magnifier]] = {"linear": LinearMagnifier, "phase": PhaseMagnifier}


def list_methods() -> list[str]:
    return sorted(_METHODS)


def get_magnifier(name: str, **settings) -> Magnifier:
    """Build the named method; ``settings`` are its constructor's keyword arguments."""
    if name not in _METHODS:
        raise MotionmagError(f"unknown method {name!r}; available: {', '.join(list_methods())}")
    try:
        return _METHODS[name](**settings)
    except TypeError as err:  # an unknown setting from a config file or the command line
        raise MotionmagError(f"method {name}: {err}") from None


__all__ = ["LinearMagnifier", "Magnifier", "PhaseMagnifier", "get_magnifier", "list_methods"]
