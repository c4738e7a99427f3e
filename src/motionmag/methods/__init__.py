"""Magnification methods behind one interface (``Magnifier.magnify(frames, alpha, mask=None)``).

    magnifier = get_magnifier("phase", mode="static")
    for frame in magnifier.magnify(frames, alpha=10):
        ...

alpha = output displacement / input displacement for every method; alpha 1 is the identity.
"""

from __future__ import annotations

from motionmag.errors import MotionmagError
from motionmag.methods.base import Magnifier
from motionmag.methods.flowmag import FlowMagMagnifier
from motionmag.methods.linear import LinearMagnifier
from motionmag.methods.oh2018 import Oh2018Magnifier
from motionmag.methods.phase import PhaseMagnifier

_METHODS: dict[str, type[Magnifier]] = {
    "flowmag": FlowMagMagnifier, "linear": LinearMagnifier, "oh2018": Oh2018Magnifier, "phase": PhaseMagnifier,
}


def list_methods() -> list[str]:
    return sorted(_METHODS)


def method_kind(name: str) -> str:
    """``flowmag-raft`` -> ``flowmag``, ``oh2018-paper`` -> ``oh2018``: a configured variant's method."""
    return name.split("-", 1)[0]


def method_accepts(name: str, option: str) -> bool:
    """Whether the named method (or variant) takes the constructor setting ``option``."""
    import inspect

    kind = method_kind(name)
    if kind not in _METHODS:
        raise MotionmagError(f"unknown method {name!r}; available: {', '.join(list_methods())}")
    return option in inspect.signature(_METHODS[kind]).parameters


def get_magnifier(name: str, **settings) -> Magnifier:
    """Build the named method (or a variant such as ``flowmag-raft``); ``settings`` are its
    constructor's keyword arguments."""
    kind = method_kind(name)
    if kind not in _METHODS:
        raise MotionmagError(f"unknown method {name!r}; available: {', '.join(list_methods())}")
    try:
        return _METHODS[kind](**settings)
    except TypeError as err:  # an unknown setting from a config file or the command line
        raise MotionmagError(f"method {name}: {err}") from None


__all__ = ["FlowMagMagnifier", "LinearMagnifier", "Magnifier", "Oh2018Magnifier", "PhaseMagnifier", "get_magnifier", "list_methods", "method_accepts", "method_kind"]
