"""torchrun SPMD plumbing: process-group set-up and teardown, and the collectives the engine uses.

One process per device. Every collective here hands the process group tensors on the group's
device (`DistInfo.device`: an NCCL group serves CUDA tensors only) and returns results on the
caller's device, so callers never have to think about where a collective runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed() -> DistInfo:
    """Read torchrun's environment, pick this rank's device and start the process group (NCCL with
    CUDA, gloo otherwise) for several ranks, or for one launched by torchrun (FSDP2 needs a group
    even with one process)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{local}") if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    launched = world > 1 or "TORCHELASTIC_RUN_ID" in os.environ
    if launched and not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return DistInfo(rank, world, local, device)


def shutdown() -> None:
    """Always called at exit: gloo may abort the process if the group is left alive."""
    if dist.is_available() and dist.is_initialized():
        try:
            dist.barrier()
        finally:
            dist.destroy_process_group()


def all_reduce_sum(x: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Sum of `x` over ranks (a new tensor on `x`'s device; `x` itself is left alone)."""
    if not info.enabled:
        return x.clone()
    y = x.detach().to(info.device, copy=True)
    dist.all_reduce(y)
    return y.to(x.device)


def all_reduce_max(x: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Element-wise maximum of `x` over ranks (a new tensor on `x`'s device)."""
    if not info.enabled:
        return x.clone()
    y = x.detach().to(info.device, copy=True)
    dist.all_reduce(y, op=dist.ReduceOp.MAX)
    return y.to(x.device)


def all_gather_object(obj, info: DistInfo) -> list:
    """Every rank's `obj`, in rank order (pickled; for small bookkeeping, not for tensors of weights)."""
    if not info.enabled:
        return [obj]
    out = [None] * info.world
    dist.all_gather_object(out, obj)
    return out


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def any_rank(flag: bool, info: DistInfo) -> bool:
    """True when `flag` holds on some rank (used to keep ranks' forward counts in step)."""
    if not info.enabled:
        return flag
    return bool(all_reduce_max(torch.tensor([1.0 if flag else 0.0]), info).item())
