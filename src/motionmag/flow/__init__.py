"""Optical-flow estimators behind one call.

    flow_model = get_flow_model("dis")
    flow = flow_model(img0, img1)   # (B, 2, H, W): pixel displacement img0 -> img1, x then y

Inputs are (B, 3, H, W) RGB float in [0, 1] on any device. ``flow_model.differentiable`` says
whether gradients reach the inputs. The weight-free estimators registered here run offline.
"""

from motionmag.flow.classical import DISFlow, FarnebackFlow
from motionmag.flow.lucas_kanade import LucasKanadeFlow
from motionmag.flow.registry import FlowModel, get_flow_model, list_flow_models, register_flow_model
from motionmag.flow.warp import backward_warp

register_flow_model("dis", DISFlow)
register_flow_model("farneback", FarnebackFlow)
register_flow_model("lk", LucasKanadeFlow)

__all__ = [
    "DISFlow",
    "FarnebackFlow",
    "FlowModel",
    "LucasKanadeFlow",
    "backward_warp",
    "get_flow_model",
    "list_flow_models",
    "register_flow_model",
]
