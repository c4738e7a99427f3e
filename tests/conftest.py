"""Shared fixtures: small rendered clips with known motion, an ffmpeg binary, the twocats frames."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from motionmag.data.demo import DemoClip, DemoRenderer, Motion

ROOT = Path(__file__).resolve().parents[1]
TWOCATS = ROOT.parent / "shared" / "data" / "twocats"

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """An ffmpeg executable: imageio-ffmpeg's bundled one, else one on PATH."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        exe = shutil.which("ffmpeg")
        if exe is None:
            pytest.skip("no ffmpeg available")
        return exe


@pytest.fixture(scope="session")
def twocats() -> Path:
    if not (TWOCATS / "frames").is_dir():
        pytest.skip("../shared/data/twocats is absent")
    return TWOCATS


def make_renderer(amplitude=0.25, background_amplitude=0.0, frames=7, fps=6.0, frequency=1.0, **kwargs) -> DemoRenderer:
    """A textured ellipse (gravel) over brick, moving A sin(2 pi f t) at 30 degrees; background still."""
    settings = dict(
        width=224, height=192, frames=frames, fps=fps, object="gravel", background="brick",
        object_radii=(0.35, 0.38), smooth=1.0,
        object_motion=Motion(amplitude, frequency, 30.0), background_motion=Motion(background_amplitude, 0.5, 90.0),
    )
    settings.update(kwargs)
    return DemoRenderer(DemoClip(**settings))


def region_motion(frames, region, flow_model) -> np.ndarray:
    """(T, 2) mean flow from frame 0 to every frame over a boolean region."""
    from motionmag.methods.base import frame_to_tensor

    ref = frame_to_tensor(frames[0], torch.device("cpu"))
    out = [np.zeros(2)]
    with torch.no_grad():
        for frame in frames[1:]:
            flow = flow_model(ref, frame_to_tensor(frame, torch.device("cpu")))[0]
            out.append(flow[:, torch.from_numpy(region)].mean(1).numpy())
    return np.stack(out)
