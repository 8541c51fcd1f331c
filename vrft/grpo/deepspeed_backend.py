"""DeepSpeed ZeRO-1/2/3 for the GRPO engine.

The trainer builds its own AdamW and LR schedule and hands them to `deepspeed.initialize`;
DeepSpeed then owns clipping, gradient averaging, partitioning and the optimizer step. Our losses
are already normalised by global counts, so `engine.backward` is told not to rescale by the
accumulation steps. On CPU set `DS_ACCELERATOR=cpu` (the first run JIT-compiles an op; set
`TORCH_EXTENSIONS_DIR` to cache it).
"""

from __future__ import annotations

import os

import torch


def ds_config(cfg, micro_batches_per_step: int) -> dict:
    ds = dict(cfg.train.deepspeed)
    stage = int(ds.get("zero_stage", 2))
    zero: dict = {"stage": stage}
    if ds.get("offload_optimizer"):
        zero["offload_optimizer"] = {"device": "cpu"}
    if ds.get("offload_params"):
        zero["offload_param"] = {"device": "cpu"}
    bf16 = cfg.train.bf16 is True or (cfg.train.bf16 == "auto" and torch.cuda.is_available())
    return {
        "train_micro_batch_size_per_gpu": cfg.train.micro_batch_size,
        "gradient_accumulation_steps": max(1, micro_batches_per_step),
        "gradient_clipping": cfg.train.grad_clip if cfg.train.grad_clip > 0 else 0.0,
        "zero_optimization": zero,
        "bf16": {"enabled": bool(bf16)},
        "steps_per_print": 10**9,
        "wall_clock_breakdown": False,
    }


def initialize(model, optimizer, scheduler, cfg, micro_batches_per_step: int):
    os.environ.setdefault("DS_ACCELERATOR", "cpu" if not __import__("torch").cuda.is_available() else "cuda")
    import deepspeed

    engine, opt, _, sched = deepspeed.initialize(model=model, optimizer=optimizer, lr_scheduler=scheduler,
                                                 config=ds_config(cfg, micro_batches_per_step))
    return engine, opt, sched


def is_zero3(engine) -> bool:
    return getattr(engine, "zero_optimization_stage", lambda: 0)() == 3


def full_state_dict(engine) -> dict | None:
    """Consolidated weights (a collective under ZeRO-3: every rank calls it; rank 0 gets the dict)."""
    if is_zero3(engine):
        return engine._zero3_consolidated_16bit_state_dict()
    return None
