"""Magnification methods behind one interface (``Magnifier.magnify(frames, alpha, mask=None)``).

    magnifier = get_magnifier("phase", mode="static")
    for frame in magnifier.magnify(frames, alpha=10):
        ...

alpha = output displacement / input displacement for every method; alpha 1 is the identity.

What each method supports (its modes, whether it is learned, its options with their defaults) is
declared once, as its class's ``spec`` (:class:`MethodSpec`); :func:`method_spec` finds it by
name, a configured variant's name (``flowmag-raft``) included.
"""

from __future__ import annotations

from motionmag.errors import MotionmagError
from motionmag.methods.axial import AxialMagnifier
from motionmag.methods.base import MethodSpec, Magnifier, Option
from motionmag.methods.eulermormer import EulerMormerMagnifier
from motionmag.methods.flowmag import FlowMagMagnifier
from motionmag.methods.linear import LinearMagnifier
from motionmag.methods.oh2018 import Oh2018Magnifier
from motionmag.methods.phase import PhaseMagnifier
from motionmag.methods.stbvmm import STBVMMMagnifier

# in the order the methods came to this project (help texts and error messages list them so);
# Axial-MM, EulerMormer and STB-VMM: docs/newer_methods.md
_METHODS: dict[str, type[Magnifier]] = {
    cls.spec.name: cls for cls in (FlowMagMagnifier, LinearMagnifier, Oh2018Magnifier, PhaseMagnifier,
                                   AxialMagnifier, EulerMormerMagnifier, STBVMMMagnifier)
}


def list_methods() -> list[str]:
    return sorted(_METHODS)


def method_specs() -> list[MethodSpec]:
    """Every method's declaration, in the registry's order (the order they came to the project)."""
    return [cls.spec for cls in _METHODS.values()]


def method_kind(name: str) -> str:
    """``flowmag-raft`` -> ``flowmag``, ``oh2018-paper`` -> ``oh2018``: a configured variant's method."""
    return name.split("-", 1)[0]


def _method_class(name: str) -> type[Magnifier]:
    kind = method_kind(name)
    if kind not in _METHODS:
        raise MotionmagError(f"unknown method {name!r}; available: {', '.join(list_methods())}")
    return _METHODS[kind]


def method_spec(name: str) -> MethodSpec:
    """What the named method (or a variant such as ``flowmag-raft``) supports: its declaration."""
    return _method_class(name).spec


def get_magnifier(name: str, **settings) -> Magnifier:
    """Build the named method (or a variant such as ``flowmag-raft``); ``settings`` are its
    options (``method_spec(name).options``) and ``device``. An unknown option, a value of the
    wrong type or a missing required one is a one-line :class:`MotionmagError`."""
    cls = _method_class(name)
    cls.spec.validate(settings, name)
    try:
        return cls(**settings)
    except TypeError as err:  # a value the declaration let through but the method cannot use
        raise MotionmagError(f"method {name}: {err}") from None


__all__ = ["AxialMagnifier", "EulerMormerMagnifier", "FlowMagMagnifier", "LinearMagnifier", "Magnifier", "MethodSpec",
           "Oh2018Magnifier", "Option", "PhaseMagnifier", "STBVMMMagnifier", "get_magnifier", "list_methods", "method_kind",
           "method_spec", "method_specs"]
