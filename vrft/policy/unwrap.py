"""Reach the Hugging Face model inside DDP / FSDP / DeepSpeed / PEFT wrappers."""

from __future__ import annotations


def unwrap(model):
    """The `...ForConditionalGeneration` module under any wrapper."""
    while True:
        if hasattr(model, "module") and not hasattr(model, "lm_head"):  # DDP, DeepSpeed engine
            model = model.module
        elif hasattr(model, "get_base_model"):  # PEFT
            model = model.get_base_model()
        else:
            return model


def core(model):
    """The `...VLModel` (vision tower + language model) that owns `get_image_features` and rope state."""
    return unwrap(model).model
