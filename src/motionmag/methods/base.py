"""The one interface every magnification method implements, and what they share.

Convention for every method: ``alpha`` = output displacement / input displacement, so alpha 1 is
the identity (as in FlowMag and Oh et al. 2018). Eulerian methods amplify a band-passed signal
by ``alpha - 1`` and add it back: a motion d inside the pass band becomes d + (alpha - 1) d.
"""

from __future__ import annotations

import math
import numbers
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Iterable, Iterator, Mapping

import numpy as np
import torch

from motionmag.errors import MotionmagError
from motionmag.methods.filters import FILTERS

# NTSC YIQ, as in Wu et al. 2012 and Wadhwa et al. 2013
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


def rgb_to_yiq(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> YIQ."""
    return torch.einsum("ij,bjhw->bihw", _RGB_TO_YIQ.to(x), x)


def yiq_to_rgb(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", _YIQ_TO_RGB.to(x), x)


# The largest alpha any method is asked to honour. The paper's sweeps need 250 (0.04 px made 10 px)
# and Oh et al.'s training draws up to 100; at 1000 the 8-bit quantisation noise of the input
# (1/255 of a grey level reads as motion of hundredths of a pixel) is itself magnified to pixels,
# and every method's small-motion model (the linear method's alpha d < lambda / 8, phase shifts
# within +-pi, FlowMag's trained range 16 repeated) has long stopped holding. A method whose
# own limit is lower declares it as ``Magnifier.max_alpha``.
MAX_ALPHA = 1000.0


def check_alpha(alpha: float, max_alpha: float = MAX_ALPHA, method: str | None = None) -> float:
    """``alpha`` as a float, or a one-line :class:`MotionmagError` unless it is finite, > 0 and at most ``max_alpha``.

    alpha is output motion / input motion: 0 < alpha < 1 attenuates, 1 is the identity; alpha <= 0
    (freezing or reversing motion) is not something any method here does.
    """
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise MotionmagError(f"alpha must be a number, got {alpha!r}") from None
    if not math.isfinite(alpha) or alpha <= 0:
        raise MotionmagError(f"alpha must be a finite number > 0 (1 is the identity), got {alpha:g}")
    if alpha > max_alpha:
        which = f" for {method}" if method else ""
        raise MotionmagError(f"alpha must be at most {max_alpha:g}{which} (beyond, the magnified noise swamps any motion), got {alpha:g}")
    return alpha


# ---- what a method declares ----------------------------------------------------------------------

# the modes a method may have, in the order they are listed, with what each magnifies against
MODES = {"static": "against frame 0", "dynamic": "against the previous frame", "temporal": "a band of frequencies in time"}


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()  # the default of an option that has none: it must be given

_KINDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text", Path: "a file path",
          tuple: "a pair of numbers"}


def _bool_like(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _is_kind(value, kind: type) -> bool:
    if kind is bool:
        return _bool_like(value)
    if kind is int:
        return isinstance(value, numbers.Integral) and not _bool_like(value)
    if kind is float:
        return isinstance(value, numbers.Real) and not _bool_like(value)
    if kind is Path:
        return isinstance(value, (str, os.PathLike))
    if kind is tuple:
        return (isinstance(value, (list, tuple, np.ndarray)) and len(value) == 2
                and all(isinstance(v, numbers.Real) and not _bool_like(v) for v in value))
    return isinstance(value, kind)


@dataclass(frozen=True)
class Option:
    """One setting of a method: a keyword argument of its constructor.

    ``type`` is one of bool, int, float, str, Path (a file path, str or PathLike) or tuple (a pair of
    numbers, e.g. a pass band); ``None`` is also accepted when the default is ``None``.
    ``choices``: the values allowed. ``minimum``: the smallest value allowed. ``modes``: the modes
    it applies to (``None``: every mode). ``flag``: ``motionmag magnify`` has a flag of its own
    for it (``--batch-size``); every other option is set with ``--param name=value``.
    ``default_text``: how help states the default where the value alone would not say it.
    """

    name: str
    default: Any = REQUIRED
    type: type = str
    help: str = ""
    choices: tuple | None = None
    minimum: float | None = None
    modes: tuple[str, ...] | None = None
    flag: bool = False
    default_text: str | None = None

    def __post_init__(self):
        if self.type not in _KINDS:
            raise TypeError(f"option {self.name}: type must be one of {', '.join(k.__name__ for k in _KINDS)}")
        if not self.required and self.default is not None:
            self.check(self.default, f"option {self.name}'s default")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def flag_name(self) -> str:
        """The command-line spelling: ``--batch-size`` for ``batch_size``."""
        return "--" + self.name.replace("_", "-")

    def describe_default(self) -> str:
        if self.default_text is not None:
            return self.default_text
        if self.required:
            return "required"
        if self.default is None or isinstance(self.default, bool):
            return {None: "none", True: "true", False: "false"}[self.default]  # as --param reads them (YAML)
        return f"{self.default:g}" if isinstance(self.default, float) else str(self.default)

    def check(self, value, where: str) -> None:
        """A one-line :class:`MotionmagError` (``where: ...``) unless ``value`` is of the option's
        type, one of its choices and at least its minimum."""
        if value is None and self.default is None:
            return
        if not _is_kind(value, self.type):
            raise MotionmagError(f"{where}: {self.name} must be {_KINDS[self.type]}, got {value!r}")
        if self.choices is not None and value not in self.choices:
            raise MotionmagError(f"{where}: {self.name} must be one of {', '.join(map(str, self.choices))}, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise MotionmagError(f"{where}: {self.name} must be at least {self.minimum:g}, got {value}")


@dataclass(frozen=True, eq=False)
class MethodSpec:
    """What a method supports, declared once on its :class:`Magnifier` class (``spec``), read by
    :func:`motionmag.methods.get_magnifier`, the command line and the workflow.

    ``options``: its constructor's keyword arguments but ``device`` (every method takes that), in
    order; given as Options, kept as a read-only mapping name -> Option. The modes it has are its
    ``mode`` option's choices. ``demo_weights``: for a learned method (one whose ``checkpoint`` is
    required), the weights-manifest entry of the released demo model, used when no checkpoint is
    given. ``released_weights``: for a learned method, the weights-manifest entry of the authors'
    own network, which ``checkpoint`` may name once fetched (``motionmag flow fetch NAME``); a
    method with these but no demo weights needs its checkpoint given. ``two_frame_mode``: the mode
    a two-frame (pair) evaluation runs it in.
    """

    name: str
    options: Mapping[str, Option] | Iterable[Option]
    demo_weights: str | None = None
    two_frame_mode: str = "static"
    released_weights: str | None = None

    def __post_init__(self):
        options: dict[str, Option] = {}
        for option in self.options.values() if isinstance(self.options, Mapping) else self.options:
            if option.name in options or option.name == "device":
                raise ValueError(f"method {self.name}: option {option.name} declared twice (device is every method's)")
            options[option.name] = option
        object.__setattr__(self, "options", MappingProxyType(options))
        if self.two_frame_mode not in self.modes:
            raise ValueError(f"method {self.name}: two_frame_mode {self.two_frame_mode!r} is not one of its modes {self.modes}")
        if (self.demo_weights or self.released_weights) and not self.learned:
            raise ValueError(f"method {self.name}: weights without a required checkpoint option")

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes it has: its ``mode`` option's choices (static only without one)."""
        mode = self.options.get("mode")
        return tuple(mode.choices) if mode is not None and mode.choices else ("static",)

    @property
    def learned(self) -> bool:
        """Whether it is a trained network: it needs a ``checkpoint`` (and is worth a GPU)."""
        checkpoint = self.options.get("checkpoint")
        return checkpoint is not None and checkpoint.required

    @property
    def defaults(self) -> dict[str, Any]:
        """Every option that has a default, with it."""
        return {name: option.default for name, option in self.options.items() if not option.required}

    def two_frame(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The settings a two-frame (pair) evaluation uses: ``settings`` with the mode set to
        ``two_frame_mode`` (frame 1 against frame 0, as FlowMag and Oh et al. evaluate), where the
        method has a choice of modes or ``settings`` names one."""
        settings = dict(settings)
        if len(self.modes) > 1 or "mode" in settings:
            settings["mode"] = self.two_frame_mode
        return settings

    def validate(self, settings: Mapping[str, Any], label: str | None = None) -> None:
        """A one-line :class:`MotionmagError` naming the method (``label``, e.g. a variant name)
        unless every setting is one of its options (or ``device``) with a fitting value, and every
        required option is given."""
        label = label or self.name
        for key, value in settings.items():
            if key == "device":
                continue
            option = self.options.get(key)
            if option is None:
                raise MotionmagError(f"method {label}: unknown option {key!r}; {self.name} takes {', '.join(self.options)} and device")
            option.check(value, f"method {label}")
        missing = [name for name, option in self.options.items() if option.required and name not in settings]
        if missing:
            raise MotionmagError(f"method {label} needs {' and '.join(missing)}")


def mode_option(*modes: str) -> Option:
    """The ``mode`` option of a method that has these modes (the first is the default)."""
    if not modes or any(mode not in MODES for mode in modes):
        raise ValueError(f"modes are some of {', '.join(MODES)}, got {modes}")
    described = "; ".join(f"{mode}: {MODES[mode]}" for mode in modes)
    return Option("mode", modes[0], str, f"what each frame's motion is magnified against ({described})", choices=modes)


# the temporal filter's options, as the Eulerian methods and Oh et al.'s temporal mode share them
TEMPORAL_FILTERS = tuple(kind for kind in FILTERS if kind != "static")
BAND = Option("band", None, tuple, "the pass band (low, high) in Hz; for diff-iir its coefficients (r_low, r_high)",
              modes=("temporal",))
FPS = Option("fps", None, float, "the frame rate, which a temporal filter needs")
FILTER = Option("filter", "iir", str, "the temporal filter: iir (Wu et al.'s), diff-iir (the same from its coefficients), "
                "butter (Butterworth), fir (zero-phase windowed sinc; also ideal)", choices=TEMPORAL_FILTERS,
                modes=("temporal",))
TAPS = Option("taps", None, int, "the FIR filter's length (odd)", minimum=3, modes=("temporal",),
              default_text="about two periods of the band's low end, at most 121")


def frame_to_tensor(frame: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, 3) uint8 or float [0, 1] -> (1, 3, H, W) float32 in [0, 1] on ``device``."""
    t = torch.from_numpy(np.ascontiguousarray(frame)).to(device)
    t = t.float() / 255.0 if frame.dtype == np.uint8 else t.float()
    return t.permute(2, 0, 1).unsqueeze(0)


def tensor_to_frame(t: torch.Tensor, like: np.ndarray) -> np.ndarray:
    """(1, 3, H, W) in [0, 1] -> (H, W, 3) with the dtype of ``like`` (uint8 rounded, or float32)."""
    t = t.clamp(0.0, 1.0)[0].permute(1, 2, 0)
    if like.dtype == np.uint8:
        return t.mul(255.0).round().to("cpu", torch.uint8).numpy()
    return t.to("cpu", torch.float32).numpy()


class Magnifier(ABC):
    """``magnify(frames, alpha, mask=None)``: frames in, magnified frames out, one at a time.

    Frames are (H, W, 3) RGB arrays, uint8 or float32 in [0, 1]; outputs have the input's dtype.
    Memory is bounded by the method's temporal window, never by the video's length.
    ``mask`` (H, W) in [0, 1] limits magnification: out = mask * magnified + (1 - mask) * input.
    """

    spec: ClassVar[MethodSpec]  # what the method supports: declared once, on each concrete class
    name: str = ""  # spec.name
    composite: bool = True  # blend the output with the input through the mask (see magnify)
    max_alpha: float = MAX_ALPHA  # the largest alpha this method honours (check_alpha)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "spec" in cls.__dict__:
            cls.name = cls.spec.name

    def __init__(self, device: str | torch.device = "cpu"):
        self.device = torch.device(device)

    def validate_alpha(self, alpha: float) -> float:
        """``alpha`` as a float, or a one-line :class:`MotionmagError` unless this method honours
        it (check_alpha; a method with further bounds adds them)."""
        return check_alpha(alpha, self.max_alpha, self.name or None)

    @abstractmethod
    def _magnify_tensors(self, frames: Iterator[torch.Tensor], alpha: float,
                         mask: torch.Tensor | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield (input, magnified) pairs of (1, 3, H, W) tensors, in input order. ``mask``
        (1, 1, H, W) is for methods that use it themselves; the blend below applies to every method."""

    @torch.no_grad()
    def magnify(self, frames: Iterable[np.ndarray], alpha: float, mask: np.ndarray | None = None) -> Iterator[np.ndarray]:
        alpha = self.validate_alpha(alpha)
        frames = iter(frames)
        first = next(frames, None)
        if first is None:
            return
        like = first
        mask_t = None if mask is None else torch.from_numpy(np.asarray(mask, np.float32)).to(self.device)[None, None]
        if mask_t is not None and mask_t.shape[-2:] != first.shape[:2]:
            raise MotionmagError(f"mask is {tuple(mask_t.shape[-2:])} but frames are {first.shape[:2]} (height, width)")

        def tensors():
            yield frame_to_tensor(first, self.device)
            for frame in frames:
                yield frame_to_tensor(frame, self.device)

        for original, magnified in self._magnify_tensors(tensors(), alpha, mask_t):
            if mask_t is not None and self.composite:
                magnified = mask_t * magnified + (1 - mask_t) * original
            yield tensor_to_frame(magnified, like)


class EulerianMagnifier(Magnifier):
    """What the linear and phase-based methods share: a mode and its temporal filter.

    ``mode="static"`` compares every frame with frame 0; ``mode="temporal"`` band-passes over time
    with ``filter`` (``iir``, ``diff-iir``, ``butter`` or ``fir``) between ``band`` = (low, high) Hz at ``fps``.
    A subclass's ``spec`` starts with ``EulerianMagnifier.OPTIONS``.
    """

    OPTIONS = (mode_option("static", "temporal"), BAND, FPS, FILTER, TAPS)

    def __init__(self, mode="static", band=None, fps=None, filter="iir", taps=None, device="cpu"):
        super().__init__(device)
        if mode not in self.spec.modes:
            raise MotionmagError(f"{self.name} magnification has modes {' and '.join(self.spec.modes)}, not {mode!r}")
        self.filter_kind = "static" if mode == "static" else filter
        self.band, self.fps, self.taps = band, fps, taps
        self.new_filter()  # fail on a bad band before any frame is read

    def new_filter(self):
        from motionmag.methods.filters import make_filter

        return make_filter(self.filter_kind, self.band, self.fps, self.taps)
