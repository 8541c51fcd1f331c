"""DistributedDataParallel: replicated weights, gradients averaged over ranks in backward."""

from __future__ import annotations

import contextlib
from typing import ContextManager

import torch
from torch.nn.parallel import DistributedDataParallel

from vrft.parallel.backend import BACKENDS, TrainBackend


@BACKENDS.register("ddp")
class DDPBackend(TrainBackend):
    needs_process_group = True
    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        # Buffers are deterministic (rotary tables): no broadcast, so generation runs no collectives.
        return DistributedDataParallel(model, device_ids=[self.info.local_rank] if self.device.type == "cuda" else None,
                                       broadcast_buffers=False)

    def accumulating(self, last: bool) -> ContextManager:
        return contextlib.nullcontext() if last else self.model.no_sync()
