"""DeepSpeed ZeRO-1/2/3.

vrft builds its own AdamW and LR schedule and hands them to `deepspeed.initialize`; DeepSpeed then
owns clipping, gradient averaging, partitioning and the optimizer step (it steps at the
accumulation boundary, so `backward` calls `engine.step()` after every micro-batch). The losses are
already normalised by global counts, so `engine.backward` is told not to rescale by the
accumulation steps. On CPU set `DS_ACCELERATOR=cpu` (the first run JIT-compiles an op; set
`TORCH_EXTENSIONS_DIR` to cache it). Mixed precision is DeepSpeed's bf16 section: bf16 weights for
compute, fp32 master weights in its optimizer, so no autocast is needed. Under ZeRO-3 parameters are
partitioned and every forward is collective (`sharded`).

Rollouts decode one token per forward, and ZeRO-3's hooks gather every layer's partitions at every
forward: `gathered_for_rollout` gathers the whole model once for the phase, takes ZeRO-3's forward
hooks off while it lasts (they would release and re-gather each layer) and puts them back, with the
partitions freed, before the update. Memory bound: during a rollout each GPU holds the full model's
parameters in the compute dtype (bf16 under `train.bf16`: about 7.5 GB for Qwen2.5-VL-3B, 16.6 GB
for 7B) on top of its partitions and optimizer state.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, ContextManager, Iterator

import torch

from vrft.parallel.backend import BACKENDS, OptimizerFactory, TrainBackend

#: Keys of `train.deepspeed` that vrft translates; every other key is merged into the JSON as given.
OWN_KEYS = ("zero_stage", "offload_optimizer", "offload_params")


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def ds_config(options: dict[str, Any], *, micro_batch_size: int, accum_steps: int, grad_clip: float,
              bf16: bool) -> dict:
    """The DeepSpeed JSON config from `train.deepspeed` (extra keys merged last, so they win)."""
    stage = int(options.get("zero_stage", 2))
    zero: dict = {"stage": stage}
    if options.get("offload_optimizer"):
        zero["offload_optimizer"] = {"device": "cpu"}
    if options.get("offload_params"):
        zero["offload_param"] = {"device": "cpu"}
    base = {
        "train_micro_batch_size_per_gpu": micro_batch_size,
        "gradient_accumulation_steps": max(1, accum_steps),
        "gradient_clipping": grad_clip if grad_clip > 0 else 0.0,
        "zero_optimization": zero,
        "bf16": {"enabled": bool(bf16)},
        "steps_per_print": 10**9,
        "wall_clock_breakdown": False,
    }
    return _merge(base, {k: v for k, v in options.items() if k not in OWN_KEYS})


@BACKENDS.register("deepspeed")
class DeepSpeedBackend(TrainBackend):
    """Options: `train.deepspeed` plus `micro_batch_size`, `grad_clip`, `bf16` filled in by the trainer."""

    def autocast(self) -> ContextManager:
        return contextlib.nullcontext()

    def master_weights(self, model: torch.nn.Module) -> torch.nn.Module:
        return model  # DeepSpeed keeps its own fp32 master copy

    @property
    def zero_stage(self) -> int:
        return int(self.options.get("zero_stage", 2))

    @property
    def sharded(self) -> bool:  # type: ignore[override]
        return self.zero_stage == 3

    def setup(self, model: torch.nn.Module, make_optimizer: OptimizerFactory, accum_steps: int) -> torch.nn.Module:
        os.environ.setdefault("DS_ACCELERATOR", "cuda" if torch.cuda.is_available() else "cpu")
        import deepspeed  # optional dependency: only this backend needs it

        optimizer, scheduler = make_optimizer(model)
        o = self.options
        config = ds_config({k: v for k, v in o.items() if k not in ("micro_batch_size", "grad_clip", "bf16")},
                           micro_batch_size=o.get("micro_batch_size", 1), accum_steps=accum_steps,
                           grad_clip=o.get("grad_clip", 0.0), bf16=self.bf16)
        engine, self.optimizer, _, self.scheduler = deepspeed.initialize(
            model=model, optimizer=optimizer, lr_scheduler=scheduler, config=config)
        self.model = engine
        return engine

    def gathered_for_rollout(self) -> ContextManager:
        return gathered_zero3(self.model) if self.zero_stage == 3 else contextlib.nullcontext()

    def zero_grad(self) -> None:  # DeepSpeed zeroes after its own step
        pass

    def backward(self, loss: torch.Tensor) -> None:
        self.model.backward(loss * self.info.world, scale_wrt_gas=False)
        self.model.step()  # only steps at the accumulation boundary

    def optimizer_step(self, grad_clip: float) -> tuple[float, bool]:
        """The engine already stepped in `backward` (and skips overflowing steps itself)."""
        gnorm = self.model.get_global_grad_norm()
        return (float(gnorm) if gnorm is not None else float("nan")), True

    def scheduler_step(self) -> None:  # stepped by the engine at the boundary
        pass

    @contextlib.contextmanager
    def full_parameters(self, module: torch.nn.Module) -> Iterator[Iterator[tuple[str, torch.Tensor]]]:
        if self.zero_stage != 3:  # ZeRO-1/2 partition optimizer state and gradients, not parameters
            yield iter(module.named_parameters())
            return
        import deepspeed  # optional dependency: only this backend needs it

        # Read-only gather of every partition (modifier_rank=None): nothing is written back.
        with deepspeed.zero.GatheredParameters(list(module.parameters()), modifier_rank=None):
            yield iter(module.named_parameters())

    def full_state_dict(self) -> dict[str, torch.Tensor] | None:
        """Consolidated weights under ZeRO-3 (a collective: every rank calls it; rank 0 gets the dict)."""
        return self.model._zero3_consolidated_16bit_state_dict() if self.zero_stage == 3 else None

    def checkpoint_objects(self) -> tuple[Any, Any]:
        return None, None

    def save_own_state(self, step_dir) -> None:
        # DeepSpeed's own checkpoint holds the partitioned optimizer for exact resume.
        self.model.save_checkpoint(str(Path(step_dir) / "deepspeed"), tag="state")

    def load_own_state(self, step_dir) -> None:
        self.model.load_checkpoint(str(Path(step_dir) / "deepspeed"), tag="state")


def _parameter_offload(engine):
    """ZeRO-3's parameter coordinator, which owns the forward hooks (DeepSpeed >= 0.17)."""
    optimizer = engine.optimizer
    return optimizer.parameter_offload if hasattr(optimizer, "parameter_offload") else optimizer


@contextlib.contextmanager
def gathered_zero3(engine) -> Iterator[None]:
    """Every partitioned parameter of a ZeRO-3 `engine` gathered once (read-only) and its hooks off,
    so the forwards inside run on full local weights without a collective; on exit the hooks are
    registered again and the partitions freed. Every rank must enter it (the gather is collective)."""
    import deepspeed  # optional dependency: only this backend needs it

    offload = _parameter_offload(engine)
    params = list(engine.module.parameters())
    with deepspeed.zero.GatheredParameters(params, modifier_rank=None):
        for p in params:  # a hook-less forward must not leave them counted as in use
            p.ds_active_sub_modules.clear()
        for hook in offload.forward_hooks + offload.backward_hooks:
            hook.remove()
        offload.forward_hooks, offload.backward_hooks = [], []
        try:
            yield
        finally:
            offload._register_deepspeed_module(offload.module)
