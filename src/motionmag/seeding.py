"""Seeds and random draws shared by training and test-time adaptation: every random draw is a
function of (seed, sample or step), so runs resume and split over processes exactly."""

from __future__ import annotations

import math

import numpy as np
import torch


def derive_seed(*parts: int) -> int:
    """A 63-bit seed mixed from integers (numpy's SeedSequence: well spread, platform-stable)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, np.uint64)[0] >> 1)


def alpha_log_uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    """(n,) alphas with log2(alpha) uniform in [log2 low, log2 high] (FlowMag's sampling)."""
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return torch.exp2(math.log2(low) + u * (math.log2(high) - math.log2(low))).float()
