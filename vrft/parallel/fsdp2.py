"""FSDP2 (`fully_shard`): parameters, gradients and optimizer state sharded over ranks; every
forward gathers each block's parameters, so forwards are collective (`sharded = True`).
Mixed precision is FSDP2's own: fp32 sharded parameters, cast to bf16 when gathered for compute,
gradients reduced in fp32 (`MixedPrecisionPolicy`), so no autocast is needed.

Rollouts decode one token per forward: gathering every block's parameters at every step would
move the whole model over the network per token. `gathered_for_rollout` gathers them once for the
phase and frees them at its end, before the update. Memory bound: during a rollout each GPU holds
the full model's parameters in the compute dtype (bf16 under `train.bf16`: 2 bytes per parameter,
about 7.5 GB for Qwen2.5-VL-3B, 16.6 GB for 7B) on top of its shards, gradients and optimizer
state, which are untouched during the rollout."""

from __future__ import annotations

import contextlib
from typing import ContextManager, Iterator

import torch
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
from torch.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard
from torch.distributed.tensor import DTensor

from vrft.parallel.backend import BACKENDS, TrainBackend


@BACKENDS.register("fsdp2")
class FSDP2Backend(TrainBackend):
    needs_process_group = True
    sharded = True

    def autocast(self) -> ContextManager:
        return contextlib.nullcontext()

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        mp = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) if self.bf16 \
            else MixedPrecisionPolicy()
        inner = model.model if hasattr(model, "model") else model
        for block in list(inner.visual.blocks) + list(inner.language_model.layers):
            fully_shard(block, mp_policy=mp)
        # The vision tower is its own unit: shared-feature encoding calls it outside the root forward.
        fully_shard(inner.visual, mp_policy=mp)
        # The embedding is called by the VL model before the language model's own forward.
        fully_shard(inner.language_model.embed_tokens, mp_policy=mp)
        fully_shard(inner.language_model, mp_policy=mp)
        fully_shard(model, mp_policy=mp)
        # Initialise from the root now: otherwise the first unit called (the vision tower, during
        # rollouts) would make itself a root and the full forward would fail later.
        model._get_fsdp_state()._lazy_init()
        return model

    def gathered_for_rollout(self) -> ContextManager:
        return gathered(self.model)

    @contextlib.contextmanager
    def full_parameters(self, module: torch.nn.Module) -> Iterator[Iterator[tuple[str, torch.Tensor]]]:
        # The fp32 shards, all-gathered one parameter at a time: not `gathered`, whose unsharded
        # parameters are in the compute dtype (bf16 under mixed precision), and which holds them all.
        yield ((name, p.full_tensor() if isinstance(p, DTensor) else p) for name, p in module.named_parameters())

    def full_state_dict(self) -> dict[str, torch.Tensor]:
        return get_model_state_dict(self.model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))

    @property
    def sharded_optimizer(self) -> bool:
        return True


@contextlib.contextmanager
def gathered(model: torch.nn.Module) -> Iterator[None]:
    """Every FSDP unit of `model` unsharded once (one all-gather per unit) and kept so through the
    forwards inside; resharded (memory freed) on exit. The units are the ones `wrap` made, all with
    FSDP2's default of resharding after forward, which is restored."""
    units = [m for m in model.modules() if isinstance(m, FSDPModule)]
    for unit in units:
        unit.set_reshard_after_forward(False, recurse=False)
        unit.unshard()
    try:
        yield
    finally:
        for unit in units:
            unit.reshard()
            unit.set_reshard_after_forward(True, recurse=False)
