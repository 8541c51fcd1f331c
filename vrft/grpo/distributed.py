"""torchrun SPMD helpers: process group set-up and teardown, model wrapping, reductions.

One process per device. Prompts are sharded by rank and all G samples of a prompt stay on the rank
that drew it, so group statistics are always complete on one rank; only batch-wide quantities
(token counts, metrics) are reduced.
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
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{local}") if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
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
    if info.enabled:
        x = x.clone()
        dist.all_reduce(x)
    return x


def all_gather_object(obj, info: DistInfo) -> list:
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
    t = torch.tensor([1.0 if flag else 0.0], device=info.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def wrap_model(model, backend: str, info: DistInfo):
    """Return the model to train under `backend` (single | ddp | fsdp2). DeepSpeed is set up by the trainer."""
    if backend == "single" or not info.enabled:
        return model
    if backend == "ddp":
        from torch.nn.parallel import DistributedDataParallel as DDP

        # Buffers are deterministic (rotary tables): no broadcast, so generation runs no collectives.
        return DDP(model, device_ids=[info.local_rank] if info.device.type == "cuda" else None,
                   broadcast_buffers=False)
    if backend == "fsdp2":
        from torch.distributed.fsdp import fully_shard

        inner = model.model if hasattr(model, "model") else model
        for block in list(inner.visual.blocks) + list(inner.language_model.layers):
            fully_shard(block)
        # The vision tower is its own unit: shared-feature encoding calls it outside the root forward.
        fully_shard(inner.visual)
        # The embedding is called by the VL model before the language model's own forward.
        fully_shard(inner.language_model.embed_tokens)
        fully_shard(inner.language_model)
        fully_shard(model)
        # Initialise from the root now: otherwise the first unit called (the vision tower, during
        # rollouts) would make itself a root and the full forward would fail later.
        model._get_fsdp_state()._lazy_init()
        return model
    raise ValueError(f"train.backend: unknown backend {backend!r}; use single, ddp, fsdp2 or deepspeed")
