"""Encode each prompt's images and video once and share the features across its sequences.

A GRPO group has G sequences with the same media. Encoding it once and handing the same feature
tensors to all G sequences (through the model's `mm_encoder_outputs` input) does the vision work
once in generation, once in the log-prob forward, and lets backward accumulate the G gradients
into one vision backward.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vrft.policy.prompt_inputs import PromptInputs
from vrft.policy.unwrap import core


@dataclass
class _Modality:
    features: list[torch.Tensor]  # one (tokens, hidden) tensor per image / video
    deepstack: list[list[torch.Tensor]] | None  # Qwen3-VL: per layer, per image / video
    template: object  # the model's own output object, reused as a container


@dataclass
class EncodedMedia:
    """Vision features of one prompt."""

    image: _Modality | None
    video: _Modality | None


def _split_by_prompt(out, counts: list[int]) -> list[_Modality | None]:
    feats = list(out.pooler_output)
    deep = getattr(out, "deepstack_features", None)
    result, start = [], 0
    for n in counts:
        if n == 0:
            result.append(None)
            continue
        d = [list(layer[start:start + n]) for layer in deep] if deep else None
        result.append(_Modality(feats[start:start + n], d, out))
        start += n
    return result


def model_device(model) -> torch.device:
    """Where the model computes: the device of its parameters (sharded ones included)."""
    return next(model.parameters()).device


def encode_media(model, prompts: list[PromptInputs]) -> list[EncodedMedia]:
    """One vision-tower call per modality for all `prompts` together, on the model's device (the
    processor leaves pixels and grids on the CPU)."""
    m = core(model)
    device = model_device(m)
    images: list = [None] * len(prompts)
    videos: list = [None] * len(prompts)
    with_images = [p for p in prompts if p.pixel_values is not None]
    if with_images:
        out = m.get_image_features(torch.cat([p.pixel_values for p in with_images]).to(device),
                                   torch.cat([p.image_grid_thw for p in with_images]).to(device), return_dict=True)
        counts = [0 if p.image_grid_thw is None else int(p.image_grid_thw.shape[0]) for p in prompts]
        images = _split_by_prompt(out, counts)
    with_videos = [p for p in prompts if p.pixel_values_videos is not None]
    if with_videos:
        out = m.get_video_features(torch.cat([p.pixel_values_videos for p in with_videos]).to(device),
                                   torch.cat([p.video_grid_thw for p in with_videos]).to(device), return_dict=True)
        counts = [0 if p.video_grid_thw is None else int(p.video_grid_thw.shape[0]) for p in prompts]
        videos = _split_by_prompt(out, counts)
    return [EncodedMedia(i, v) for i, v in zip(images, videos)]


def _gather(mods: list[_Modality | None]):
    present = [m for m in mods if m is not None]
    if not present:
        return None
    out = type(present[0].template)()
    out.pooler_output = tuple(f for m in present for f in m.features)
    if present[0].deepstack is not None:
        n_layers = len(present[0].deepstack)
        out.deepstack_features = [tuple(f for m in present for f in m.deepstack[k]) for k in range(n_layers)]
    return out


def encoder_outputs_for(encoded: list[EncodedMedia], seq_prompt: list[int]) -> dict:
    """`mm_encoder_outputs` for a batch whose row i belongs to prompt `seq_prompt[i]`."""
    result = {}
    image = _gather([encoded[i].image for i in seq_prompt])
    if image is not None:
        result["image"] = image
    video = _gather([encoded[i].video for i in seq_prompt])
    if video is not None:
        result["video"] = video
    return result
