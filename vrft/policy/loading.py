"""Load a Qwen-VL checkpoint through the real `from_pretrained` path and prepare it for training:
dtype, attention implementation, gradient checkpointing, freezing, LoRA."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field

import torch
from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

from vrft.policy.families import Family, family_of

log = logging.getLogger(__name__)

DEFAULT_LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class LoraSettings:
    enabled: bool = False
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: list(DEFAULT_LORA_TARGETS))


@dataclass
class LoadSettings:
    dtype: str = "auto"
    """auto (bf16 on a GPU that supports it, else fp32) | float32 | bfloat16 | float16."""
    attn_implementation: str = "sdpa"
    """sdpa | eager | flash_attention_2 (falls back to sdpa with a warning when not installed)."""
    gradient_checkpointing: bool = False
    freeze_vision_tower: bool = False
    freeze_merger: bool = False
    freeze_language_model: bool = False
    lora: LoraSettings = field(default_factory=LoraSettings)


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    if name == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
    except KeyError:
        raise ValueError(f"model.dtype: unknown dtype {name!r}; use auto, float32, bfloat16 or float16") from None


def _attn(name: str) -> str:
    if name == "flash_attention_2" and importlib.util.find_spec("flash_attn") is None:
        log.warning("flash_attention_2 requested but flash-attn is not installed; using sdpa")
        return "sdpa"
    return name


def apply_freezing(model, settings: LoadSettings) -> None:
    """Freeze parts of the model. The merger (vision -> LM projector) is frozen separately."""
    inner = model.model
    visual = inner.visual
    merger_names = ("merger", "deepstack_merger_list")
    for name, p in visual.named_parameters():
        is_merger = name.split(".")[0] in merger_names
        if (is_merger and settings.freeze_merger) or (not is_merger and settings.freeze_vision_tower):
            p.requires_grad_(False)
    if settings.freeze_language_model:
        for p in inner.language_model.parameters():
            p.requires_grad_(False)
        for p in model.lm_head.parameters():
            p.requires_grad_(False)


def apply_lora(model, lora: LoraSettings):
    from peft import LoraConfig, get_peft_model

    # Only the language model's projections: the vision tower keeps its own freezing settings.
    pattern = r".*language_model.*\.(" + "|".join(lora.target_modules) + r")$"
    cfg = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=pattern,
                     bias="none")
    return get_peft_model(model, cfg)


def load_model(name_or_path: str, settings: LoadSettings, device: torch.device | str = "cpu"):
    """(model, processor, family). Works with a hub id or a local folder."""
    device = torch.device(device)
    config = AutoConfig.from_pretrained(name_or_path)
    family: Family = family_of(config)  # fails early, with the supported list, before loading weights
    dtype = resolve_dtype(settings.dtype, device)
    model = AutoModelForImageTextToText.from_pretrained(
        name_or_path, dtype=dtype, attn_implementation=_attn(settings.attn_implementation))
    processor = AutoProcessor.from_pretrained(name_or_path)
    processor.tokenizer.padding_side = "left"
    model.to(device)
    apply_freezing(model, settings)
    if settings.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    if settings.lora.enabled:
        if settings.gradient_checkpointing:
            model.enable_input_require_grads()
        model = apply_lora(model, settings.lora)
    return model, processor, family
