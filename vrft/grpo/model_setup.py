"""Build the policy, the optional frozen reference, the optimizer and the LR schedule from a config."""

from __future__ import annotations

import math
import os
from dataclasses import fields

import torch

from vrft.parallel.dist import DistInfo, barrier
from vrft.policy.loading import LoadSettings, LoraSettings
from vrft.policy.policy import Policy
from vrft.policy.tiny_model import TinySize, build_tiny_model

TINY_PREFIX = "tiny:"


def resolve_model_path(cfg, info: DistInfo) -> str:
    """`tiny:FAMILY` builds (once, on rank 0) a tiny random checkpoint in the cache; else the path or hub id."""
    name = cfg.model.name_or_path
    if not name.startswith(TINY_PREFIX):
        return name
    family = name[len(TINY_PREFIX):]
    size = TinySize(**{f.name: getattr(cfg.model.tiny, f.name) for f in fields(TinySize)})
    tag = "-".join(str(getattr(size, f.name)) for f in fields(TinySize))
    out = os.path.join(os.path.expanduser(cfg.data.cache_dir), "models", f"{family}-{tag}-seed{cfg.train.seed}")
    if info.is_main and not os.path.exists(os.path.join(out, "config.json")):
        build_tiny_model(out + ".tmp", family, size, seed=cfg.train.seed)
        os.replace(out + ".tmp", out) if not os.path.exists(out) else None
    barrier(info)
    return out


def load_settings(cfg) -> LoadSettings:
    m = cfg.model
    lora = m.lora
    return LoadSettings(dtype=m.dtype, attn_implementation=m.attn_implementation,
                        gradient_checkpointing=m.gradient_checkpointing, freeze_vision_tower=m.freeze_vision_tower,
                        freeze_merger=m.freeze_merger, freeze_language_model=m.freeze_language_model,
                        lora=LoraSettings(enabled=lora.enabled, r=lora.r, alpha=lora.alpha, dropout=lora.dropout,
                                          target_modules=list(lora.target_modules)))


def load_policy(cfg, info: DistInfo, checkpoint_model: str | None = None) -> Policy:
    """The policy, from the configured model or, when resuming, from a checkpoint's `model/` folder
    (full weights, or LoRA adapters applied on top of the configured base model).
    Every rank loads identical weights: from_pretrained is deterministic given the files."""
    lora_ckpt = checkpoint_model is not None and os.path.exists(os.path.join(checkpoint_model, "adapter_config.json"))
    source = resolve_model_path(cfg, info) if checkpoint_model is None or lora_ckpt else checkpoint_model
    policy = Policy.from_pretrained(source, load_settings(cfg), device=info.device)
    if lora_ckpt:
        from peft import set_peft_model_state_dict
        from peft.utils import load_peft_weights

        set_peft_model_state_dict(policy.model, load_peft_weights(checkpoint_model, device=str(info.device)))
    return policy


def load_reference(cfg, info: DistInfo, checkpoint_reference: str | None = None) -> Policy:
    """A frozen copy of the initial policy for the KL term (only loaded when beta > 0), full and
    unsharded on every rank whatever the backend; when resuming after ReMix's reincarnation, the
    replaced reference saved in the checkpoint (`checkpoint_reference`)."""
    source = checkpoint_reference if checkpoint_reference is not None else resolve_model_path(cfg, info)
    ref = Policy.from_pretrained(source, LoadSettings(dtype=cfg.model.dtype), device=info.device)
    ref.model.eval().requires_grad_(False)
    return ref


def lr_lambda(schedule: str, warmup: int, total: int):
    def f(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        if schedule == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        if schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * progress))
        if schedule == "linear":
            return 1.0 - progress
        raise ValueError(f"train.lr_schedule: unknown schedule {schedule!r}; use constant, cosine or linear")

    return f


def build_optimizer(model, cfg):
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("no trainable parameters: check model.freeze_* and model.lora settings")
    opt = torch.optim.AdamW(params, lr=cfg.train.lr, weight_decay=cfg.train.weight_decay, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(cfg.train.lr_schedule, cfg.train.warmup_steps,
                                                             cfg.train.steps))
    return opt, sched
