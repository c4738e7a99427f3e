"""Optical-flow estimators behind one call.

    flow_model = get_flow_model("raft-things", preset="eval")   # or "dis", "lk", "gmflow-things", ...
    flow = flow_model(img0, img1)   # (B, 2, H, W): pixel displacement img0 -> img1, x then y

Inputs are (B, 3, H, W) RGB float in [0, 1] of any size on any device. ``differentiable`` says
whether gradients reach the inputs. Networks load the weights listed in config/weights.yaml
(``motionmag flow fetch NAME``); ``pretrained=False`` builds them with random weights, offline.
"""

from motionmag.flow.arflow import ARFlow
from motionmag.flow.classical import DISFlow, FarnebackFlow
from motionmag.flow.lucas_kanade import LucasKanadeFlow
from motionmag.flow.raft import RAFTFlow
from motionmag.flow.registry import (
    PRESETS,
    FlowModel,
    FlowSpec,
    flow_spec,
    get_flow_model,
    list_flow_models,
    register_flow_model,
)
from motionmag.flow.warp import backward_warp
from motionmag.flow.ptlflow_models import PtlflowFlow

# FlowMag's RAFT: 5 refinement iterations in the training loss, 20 in evaluation
# (docs/flowmag.md#the-original-flow-models)
RAFT_PRESETS = {"train": {"iters": 5}, "eval": {"iters": 20}}


def _raft_large(iters: int = 20) -> RAFTFlow:
    return RAFTFlow("large", iters)


def _raft_small(iters: int = 20) -> RAFTFlow:
    return RAFTFlow("small", iters)


def _gmflow() -> PtlflowFlow:
    return PtlflowFlow("gmflow")


def _pwcnet() -> PtlflowFlow:
    return PtlflowFlow("pwcnet")


_NETWORK = dict(differentiable=True, needs_weights=True)
register_flow_model("raft-things", _raft_large, summary="RAFT large, FlyingChairs+Things (FlowMag's)", presets=RAFT_PRESETS, **_NETWORK)
register_flow_model("raft-sintel", _raft_large, summary="RAFT large, fine-tuned on Sintel+KITTI+HD1K", presets=RAFT_PRESETS, **_NETWORK)
register_flow_model("raft-small", _raft_small, summary="RAFT small, FlyingChairs+Things", presets=RAFT_PRESETS, **_NETWORK)
register_flow_model("gmflow-things", _gmflow, summary="GMFlow, FlyingChairs+Things (ptlflow)", extra="zoo", **_NETWORK)
register_flow_model("gmflow-sintel", _gmflow, summary="GMFlow, fine-tuned on Sintel (ptlflow)", extra="zoo", **_NETWORK)
register_flow_model("pwcnet", _pwcnet, summary="PWC-Net (DC), FlyingChairs+Things (ptlflow)", extra="zoo", **_NETWORK)
register_flow_model("arflow-kitti", ARFlow, summary="ARFlow PWC-Lite, unsupervised, KITTI 2015 (FlowMag's)", **_NETWORK)
register_flow_model("dis", DISFlow, summary="OpenCV DIS, medium-fine (weight-free)")
register_flow_model("farneback", FarnebackFlow, summary="OpenCV Farnebäck (weight-free)")
# As a training signal (preset "train") LK must stay bounded on the garbage an untrained
# generator outputs: eps 1e-3 keeps flows there near 4 px instead of 100+, and still measures a
# 1 px shift on textured crops as 0.997 px; 2 warps per level instead of 5 make a FlowMag training
# step 1.8x faster (the demo trains 600 steps instead of 300 in the same time, and learns better).
register_flow_model(
    "lk", LucasKanadeFlow, summary="pyramidal Lucas-Kanade in torch (weight-free)", presets={"train": {"eps": 1e-3, "warps": 2}}
)



# Lucas-Kanade on locally normalised luma: a brightness or contrast change reads as 0.04 px of
# motion where plain LK reads 5-35 px (bench/release_quality.py flow), so a generator trained
# through it cannot satisfy it by changing brightness instead of moving things; it is also the
# more accurate of the two on rendered pairs. The demo's FlowMag weights learn through it.
def _lk_normalized(levels: int = 4, warps: int = 5, window_sigma: float = 6.0, eps: float = 1e-2,
                   normalize_sigma: float = 3.0) -> LucasKanadeFlow:
    return LucasKanadeFlow(levels=levels, warps=warps, window_sigma=window_sigma, eps=eps, normalize_sigma=normalize_sigma)


register_flow_model(
    "lk-normalized", _lk_normalized, differentiable=True,
    summary="Lucas-Kanade on locally contrast-normalised luma: blind to brightness changes (weight-free)",
    presets={"train": {"warps": 2}},
)

__all__ = [
    "PRESETS",
    "ARFlow",
    "DISFlow",
    "FarnebackFlow",
    "FlowModel",
    "FlowSpec",
    "LucasKanadeFlow",
    "PtlflowFlow",
    "RAFTFlow",
    "backward_warp",
    "flow_spec",
    "get_flow_model",
    "list_flow_models",
    "register_flow_model",
]
