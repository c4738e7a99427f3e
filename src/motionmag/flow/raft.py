"""RAFT (Teed & Deng 2020) through torchvision, loading torchvision's and princeton-vl's checkpoints.

FlowMag trains and evaluates with princeton-vl's ``raft-things.pth``; torchvision's
``Raft_Large_Weights.C_T_V1`` is that checkpoint ported, so either file loads here. The princeton
files were saved from ``nn.DataParallel`` (``module.`` prefixes) with the original module names;
``princeton_to_torchvision`` renames them.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from motionmag.flow.registry import FlowModel
from motionmag.flow.weights import load_strict, read_checkpoint, unwrap_state_dict

# princeton-vl/RAFT module names -> torchvision's, applied in order. The princeton residual
# blocks register their downsampling norm twice (as ``normN`` and ``downsample.1``); the
# duplicate is dropped. Bottleneck blocks (raft-small) have three convs, so that is norm4 there.
_RENAMES = [
    (r"^fnet\.", "feature_encoder."),
    (r"^cnet\.", "context_encoder."),
    (r"^(\w+_encoder)\.conv1\.", r"\1.convnormrelu.0."),
    (r"^(\w+_encoder)\.norm1\.", r"\1.convnormrelu.1."),
    (r"^(\w+_encoder)\.conv2\.", r"\1.conv."),
    (r"(layer\d\.\d)\.conv(\d)\.", r"\1.convnormrelu\2.0."),
    (r"(layer\d\.\d)\.norm(\d)\.", r"\1.convnormrelu\2.1."),
    (r"^update_block\.encoder\.convc(\d)\.", r"update_block.motion_encoder.convcorr\1.0."),
    (r"^update_block\.encoder\.convf(\d)\.", r"update_block.motion_encoder.convflow\1.0."),
    (r"^update_block\.encoder\.conv\.", "update_block.motion_encoder.conv.0."),
    (r"^update_block\.gru\.conv([zrq])(\d)\.", r"update_block.recurrent_block.convgru\2.conv\1."),
    (r"^update_block\.gru\.conv([zrq])\.", r"update_block.recurrent_block.convgru1.conv\1."),
    (r"^update_block\.mask\.0\.", "mask_predictor.convrelu.0."),
    (r"^update_block\.mask\.2\.", "mask_predictor.conv."),
]


def is_princeton(state: dict[str, torch.Tensor]) -> bool:
    return any(key.startswith(("fnet.", "cnet.")) for key in state)


def princeton_to_torchvision(state: dict[str, torch.Tensor], small: bool) -> dict[str, torch.Tensor]:
    """Rename a princeton-vl RAFT state dict (``module.`` already stripped) to torchvision's names."""
    duplicate_norm = re.compile(r"layer\d\.\d\.norm4\." if small else r"layer\d\.\d\.norm3\.")
    converted = {}
    for key, value in state.items():
        if duplicate_norm.search(key):
            continue
        for pattern, replacement in _RENAMES:
            key = re.sub(pattern, replacement, key)
        converted[key] = value
    return converted


class RAFTFlow(FlowModel):
    """RAFT large (5.3 M parameters) or small (1.0 M); ``iters`` refinement steps.

    Input RGB [0, 1] is mapped to RAFT's [-1, 1] (the original takes x255 and does 2x/255 - 1).
    """

    differentiable = True
    supports_amp = True
    pad_multiple = 8  # features at 1/8 resolution
    min_size = 128  # torchvision's 4-level correlation pyramid needs 16 feature rows and columns

    def __init__(self, size: str = "large", iters: int = 20):
        super().__init__()
        if size not in ("large", "small"):
            raise ValueError(f"RAFT size must be large or small, got {size!r}")
        self.size, self.iters = size, int(iters)
        # imported here: torchvision takes seconds to import, and most jobs use no RAFT
        from torchvision.models.optical_flow import raft_large, raft_small

        self.net = (raft_large if size == "large" else raft_small)(weights=None, progress=False)

    def estimate(self, img0: torch.Tensor, img1: torch.Tensor) -> torch.Tensor:
        # (B, 3, H, W) x2 -> list of iters x (B, 2, H, W); the last is the final estimate
        return self.net(2 * img0 - 1, 2 * img1 - 1, num_flow_updates=self.iters)[-1]

    def load_checkpoint(self, path: Path) -> None:
        state = unwrap_state_dict(read_checkpoint(path), "state_dict", "model")
        if is_princeton(state):
            state = princeton_to_torchvision(state, small=self.size == "small")
        load_strict(self.net, state, path)
