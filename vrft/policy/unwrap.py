"""Reach the Hugging Face model inside DDP / FSDP / DeepSpeed / PEFT wrappers."""

from __future__ import annotations

from transformers import PreTrainedModel


def unwrap(model):
    """The `...ForConditionalGeneration` module under any wrapper.

    Wrappers are recognised by type, not by attributes: a DeepSpeed engine forwards unknown
    attribute lookups to its module, so `hasattr(engine, "lm_head")` is true of the engine too."""
    while not isinstance(model, PreTrainedModel):
        if hasattr(model, "get_base_model"):  # PEFT
            model = model.get_base_model()
        elif hasattr(model, "module"):  # DDP, DeepSpeed engine
            model = model.module
        else:
            return model
    return model


def strip_parallel(model):
    """The module under DDP / DeepSpeed wrappers, keeping a PEFT model (whose adapters we save)."""
    while not isinstance(model, PreTrainedModel) and not hasattr(model, "get_base_model") and hasattr(model, "module"):
        model = model.module
    return model


def core(model):
    """The `...VLModel` (vision tower + language model) that owns `get_image_features` and rope state."""
    return unwrap(model).model
