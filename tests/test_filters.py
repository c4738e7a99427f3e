"""Streaming temporal filters: responses match their designs; streaming never loses frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import signal

from motionmag.errors import MotionmagError
from motionmag.methods.filters import FIRFilter, IIRFilter, ReferenceFilter, make_filter, wu_iir_coefficients

FPS = 30.0


def _run(filt, x):
    """Feed a 1-D series through a streaming filter; returns the output series."""
    out = []
    for v in x:
        y = filt.step([torch.tensor([v], dtype=torch.float64)])
        if y is not None:
            out.append(float(y[0]))
    out += [float(y[0]) for y in filt.flush()]
    return np.array(out)


@pytest.mark.parametrize("kind", ["iir", "butter", "ideal"])
@pytest.mark.parametrize("freq", [0.3, 2.0, 9.0])
def test_gain_at_three_frequencies_matches_the_design(kind, freq):
    filt = make_filter(kind, band=(1.0, 4.0), fps=FPS)
    n = 900
    x = np.sin(2 * np.pi * freq * np.arange(n) / FPS)
    y = _run(filt, x)
    assert len(y) == n
    steady = slice(300, 600)  # away from start-up and end padding
    measured = np.abs(np.fft.rfft(y[steady] * np.hanning(300))).max() / np.abs(np.fft.rfft(x[steady] * np.hanning(300))).max()
    if kind == "ideal":
        b, a = filt.taps, [1.0]
    else:
        b, a = filt.b, filt.a
    _, h = signal.freqz(b, a, worN=[freq], fs=FPS)
    assert measured == pytest.approx(abs(h[0]), abs=0.03)


def test_passband_and_stopband_behave_like_a_bandpass():
    for kind in ("iir", "butter", "ideal"):
        filt = make_filter(kind, band=(1.0, 4.0), fps=FPS)
        b, a = (filt.taps, [1.0]) if kind == "ideal" else (filt.b, filt.a)
        _, h = signal.freqz(b, a, worN=[0.0, 2.0], fs=FPS)
        assert abs(h[0]) < 1e-6, kind  # a still scene gives no magnification
        assert abs(h[1]) > 0.5, kind


def test_wu_iir_is_the_difference_of_two_first_order_lowpasses():
    b, a = wu_iir_coefficients(1.0, 4.0, FPS)
    rh, rl = 1 - np.exp(-2 * np.pi * 4 / FPS), 1 - np.exp(-2 * np.pi * 1 / FPS)
    x = np.random.default_rng(0).standard_normal(200)
    lp = lambda r: signal.lfilter([r], [1, -(1 - r)], x)  # noqa: E731
    assert np.allclose(signal.lfilter(b, a, x), lp(rh) - lp(rl))


def test_fir_is_zero_phase_and_flushes_every_frame():
    taps = signal.firwin(31, [1.0, 4.0], pass_zero=False, fs=FPS)
    for n in (3, 10, 15, 16, 100):  # shorter and longer than the look-ahead
        x = np.sin(2 * np.pi * 2.0 * np.arange(n) / FPS)
        assert len(_run(FIRFilter(taps), x)) == n
    x = np.sin(2 * np.pi * 2.0 * np.arange(300) / FPS)
    y = _run(FIRFilter(taps), x)
    lag = np.argmax(np.correlate(y[50:250], x[50:250], "full")) - 199
    assert lag == 0


def test_iir_starts_in_steady_state():
    filt = IIRFilter(*wu_iir_coefficients(1.0, 4.0, FPS))
    assert np.allclose(_run(filt, np.full(20, 7.0)), 0.0, atol=1e-9)


def test_reference_filter_is_the_difference_from_frame_zero():
    assert np.allclose(_run(ReferenceFilter(), [2.0, 3.0, 5.0]), [0.0, 1.0, 3.0])


def test_bad_band_is_rejected():
    with pytest.raises(MotionmagError, match="pass band"):
        make_filter("iir", band=None, fps=FPS)
    with pytest.raises(MotionmagError, match="fps/2"):
        make_filter("butter", band=(2.0, 20.0), fps=FPS)
