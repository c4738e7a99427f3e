"""What a learned magnifier achieves, tracked during training: measured amplification, not the loss.

The loss can fall while the model learns to fool its own flow network (brightness changes that an
estimator reads as motion). The probe magnifies a held-out rendered clip -- a scikit-image cat
(no training set uses it) over brick (which only the demo's evaluation uses), moving by a known
0.5 px sinusoid -- and measures what came out with OpenCV's DIS, an estimator no model trains
through:

- ``amp_x4``, ``amp_x10``: measured amplification of the object divided by alpha (1 is perfect);
- ``ssim_x4``: SSIM against the rendered ground truth at alpha 4;
- ``color_x1``: mean absolute error at alpha 1 (the input should come back), in /255.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import torch

from motionmag.synth.clips import DemoClip, DemoRenderer
from motionmag.evaluate.metrics import measured_amplification, region_displacement, ssim

PROBE_CLIP = dict(width=128, height=96, frames=9, fps=24, object="cat", background="brick",
                  object_radii=(0.3, 0.34), smooth=1.0,
                  object_motion=dict(amplitude=0.5, frequency=2.0, direction=30.0),
                  background_motion=dict(amplitude=0.0))
PROBE_METRICS = ("amp_x4", "amp_x10", "ssim_x4", "color_x1")

# (frame0, frame_t, alpha) -> magnified frame_t; (1, 3, H, W) float in [0, 1]
Magnify = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]


def _quantised(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.round(frame * 255) / 255).permute(2, 0, 1)[None].float()


@lru_cache(maxsize=1)
def _probe_clip():
    renderer = DemoRenderer(DemoClip.from_dict(PROBE_CLIP))
    inputs = [_quantised(f) for f in renderer.frames()]
    truths_x4 = [_quantised(f) for f in renderer.frames(4.0)]
    region = renderer.regions(margin=4)[0]
    return inputs, truths_x4, region, renderer.displacements()[0]


@torch.no_grad()
def probe(magnify: Magnify, device: torch.device | str = "cpu") -> dict[str, float]:
    """The probe's metrics for one magnifier (a model in eval mode behind ``magnify``)."""
    from motionmag.flow import get_flow_model

    flow = get_flow_model("dis")
    inputs, truths_x4, region, true_motion = _probe_clip()
    inputs = [x.to(device) for x in inputs]
    result = {}
    for alpha in (4.0, 10.0):
        outputs = [magnify(inputs[0], x, alpha).clamp(0, 1).float().cpu() for x in inputs]
        measured = [region_displacement(flow(outputs[0], y), region)[0].numpy() for y in outputs]
        result[f"amp_x{alpha:g}"] = measured_amplification(np.stack(measured), true_motion) / alpha
        if alpha == 4.0:
            result["ssim_x4"] = float(np.mean([float(ssim(y, t)) for y, t in zip(outputs[1:], truths_x4[1:])]))
    errors = [float((magnify(inputs[0], x, 1.0).clamp(0, 1).float().cpu() - x.cpu()).abs().mean()) for x in inputs[1:]]
    result["color_x1"] = 255.0 * float(np.mean(errors))
    return result
