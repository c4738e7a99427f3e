"""Process-group set-up for ``torchrun`` (one process per GPU), and a no-op context otherwise.

    torchrun --standalone --nproc_per_node 4 -m motionmag train flowmag ...

torchrun sets RANK, LOCAL_RANK and WORLD_SIZE; each process then uses ``cuda:LOCAL_RANK``
(NCCL), or the CPU with gloo, which is how the tests run two processes without a GPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, requested: str) -> torch.device:
        device = torch.device(requested)
        if device.type == "cuda" and self.enabled:
            return torch.device("cuda", self.local_rank)
        return device

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """Average a tensor over processes (for logging)."""
        if self.enabled:
            values = values.clone()
            dist.all_reduce(values)
            values /= self.world_size
        return values

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def init_distributed(device: str) -> Distributed:
    """Join the process group when launched by torchrun; otherwise a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Distributed()
    ctx = Distributed(int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0")), world)
    if torch.device(device).type == "cuda":
        torch.cuda.set_device(ctx.local_rank)
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")
    return ctx


def shutdown_distributed(ctx: Distributed) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()
