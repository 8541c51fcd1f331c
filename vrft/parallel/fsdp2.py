"""FSDP2 (`fully_shard`): parameters, gradients and optimizer state sharded over ranks; every
forward gathers each block's parameters, so forwards are collective (`sharded = True`)."""

from __future__ import annotations

import torch
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
from torch.distributed.fsdp import fully_shard

from vrft.parallel.backend import BACKENDS, TrainBackend


@BACKENDS.register("fsdp2")
class FSDP2Backend(TrainBackend):
    sharded = True

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
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

    def full_state_dict(self) -> dict[str, torch.Tensor]:
        return get_model_state_dict(self.model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))

    @property
    def sharded_optimizer(self) -> bool:
        return True
