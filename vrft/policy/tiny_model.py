"""`vrft tiny-model`: write a random-weight Qwen-VL checkpoint that loads offline.

The checkpoint is a real one: `AutoProcessor.from_pretrained(OUT)` and
`AutoModelForImageTextToText.from_pretrained(OUT)` load it with no network, so tests and the demo
exercise exactly the code path users take with a hub id.
"""

from __future__ import annotations

from pathlib import Path

import torch
import transformers as tf

from vrft.config.checks import check_tiny
from vrft.config.sections import TINY_FAMILIES, TinySize
from vrft.policy.tiny_tokenizer import build_tokenizer

__all__ = ["FAMILIES", "TinySize", "build_tiny_model", "mrope_section"]

FAMILIES = TINY_FAMILIES


def mrope_section(head_dim: int) -> list[int]:
    """Split head_dim / 2 rotary frequencies into (time, height, width) like Qwen's [16, 24, 24]."""
    half = head_dim // 2
    t = half // 4
    h = (half - t) // 2
    return [t, h, half - t - h]


def _text_config(size: TinySize, family: str, tok) -> dict:
    head_dim = size.hidden // size.heads
    rope = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": mrope_section(head_dim)}
    if family == "qwen3_vl":
        rope["mrope_interleaved"] = True
    cfg = dict(
        vocab_size=len(tok), hidden_size=size.hidden, intermediate_size=size.intermediate,
        num_hidden_layers=size.layers, num_attention_heads=size.heads,
        num_key_value_heads=size.kv_heads, max_position_embeddings=4096, rope_parameters=rope,
        bos_token_id=tok.convert_tokens_to_ids("<|endoftext|>"), eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id, tie_word_embeddings=False,
    )
    if family == "qwen3_vl":
        cfg["head_dim"] = head_dim
    return cfg


def _vision_config(size: TinySize, family: str) -> dict:
    if family == "qwen2_vl":
        return dict(depth=size.vision_depth, embed_dim=size.vision_hidden, hidden_size=size.hidden,
                    num_heads=size.vision_heads, mlp_ratio=size.vision_intermediate // size.vision_hidden,
                    patch_size=14)
    if family == "qwen2_5_vl":
        return dict(depth=size.vision_depth, hidden_size=size.vision_hidden,
                    intermediate_size=size.vision_intermediate, num_heads=size.vision_heads,
                    out_hidden_size=size.hidden, window_size=112, patch_size=14,
                    fullatt_block_indexes=[size.vision_depth - 1], tokens_per_second=2)
    return dict(depth=size.vision_depth, hidden_size=size.vision_hidden,
                intermediate_size=size.vision_intermediate, num_heads=size.vision_heads,
                out_hidden_size=size.hidden, patch_size=16, num_position_embeddings=256,
                deepstack_visual_indexes=[0])


def _classes(family: str):
    if family == "qwen2_vl":
        return (tf.Qwen2VLConfig, tf.Qwen2VLForConditionalGeneration, tf.Qwen2VLProcessor,
                tf.Qwen2VLVideoProcessor, 14)
    if family == "qwen2_5_vl":
        return (tf.Qwen2_5_VLConfig, tf.Qwen2_5_VLForConditionalGeneration, tf.Qwen2_5_VLProcessor,
                tf.Qwen2VLVideoProcessor, 14)
    if family == "qwen3_vl":
        return (tf.Qwen3VLConfig, tf.Qwen3VLForConditionalGeneration, tf.Qwen3VLProcessor,
                tf.Qwen3VLVideoProcessor, 16)
    raise ValueError(f"unknown family {family!r}; choose one of {FAMILIES}")


def build_tiny_model(out: str | Path, family: str = "qwen2_5_vl", size: TinySize | None = None,
                     seed: int = 0, *, config_overrides: dict | None = None, dtype: torch.dtype = torch.float32,
                     device: str | torch.device = "cpu") -> Path:
    """Write tokenizer, processors, config and random weights of a tiny `family` model to `out`.
    Bad sizes raise ConfigError (a ValueError) naming the field. ``config_overrides`` sets config
    fields after the sizes, dotted for the sub-configs (``{"text_config.vocab_size": 151936,
    "vision_config.fullatt_block_indexes": [7, 15, 23, 31]}``): a random model of a real model's
    exact shape (scripts/gpu_check.py); ``device`` / ``dtype``: where the weights are initialised
    and how they are saved (a multi-billion-parameter model initialises in seconds on a GPU)."""
    size = size or TinySize()
    check_tiny(size, "size")
    config_cls, model_cls, processor_cls, video_cls, patch = _classes(family)
    out = Path(out)
    tok = build_tokenizer(size.vocab)
    ids = {name: tok.convert_tokens_to_ids(name) for name in
           ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>")}
    factor = patch * 2  # one merged token covers a (patch * merge)^2 pixel square
    scale = (factor / 28) ** 2
    image_proc = tf.Qwen2VLImageProcessor(
        patch_size=patch, merge_size=2, temporal_patch_size=2,
        min_pixels=int(size.image_min_pixels * scale), max_pixels=int(size.image_max_pixels * scale),
    )
    video_proc = video_cls(
        patch_size=patch, merge_size=2, temporal_patch_size=2,
        size={"shortest_edge": int(28 * 28 * 4 * scale), "longest_edge": int(size.video_max_pixels * scale) * 16},
    )
    processor = processor_cls(image_processor=image_proc, tokenizer=tok, video_processor=video_proc,
                              chat_template=tok.chat_template)
    config = config_cls(
        text_config=_text_config(size, family, tok), vision_config=_vision_config(size, family),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    for key, value in (config_overrides or {}).items():
        *parents, name = key.split(".")
        target = config
        for p in parents:
            target = getattr(target, p)
        if not hasattr(target, name):
            raise ValueError(f"config_overrides: {family} config has no field {key!r}")
        setattr(target, name, value)
    torch.manual_seed(seed)
    with torch.device(device):
        model = model_cls(config).to(dtype)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
