"""Helpers of the reward tests: frames of the three model families and context builders."""

from __future__ import annotations

from rewards.context import RewardContext
from rewards.frames import NORM_1000, ORIGINAL_PIXELS, RESIZED_PIXELS, ImageFrame

# Qwen2.5-VL: absolute pixels of the resized image (original 1000x500 fed as 448x224).
QWEN25_FRAME = ImageFrame(original_size=(1000, 500), resized_size=(448, 224), output_frame=RESIZED_PIXELS)
# Qwen2-VL / Qwen3-VL: 0-1000 normalised coordinates of the image the model saw.
NORM_FRAME = ImageFrame(original_size=(1000, 500), resized_size=(448, 224), output_frame=NORM_1000)
ORIG_FRAME = ImageFrame(original_size=(1000, 500), resized_size=(1000, 500), output_frame=ORIGINAL_PIXELS)


def make_ctx(solution, frame=ORIG_FRAME, **kw) -> RewardContext:
    images = [] if frame is None else [frame]
    kw.setdefault("sample_id", "s0")
    return RewardContext(solution=solution, images=images, **kw)


def answer(body: str, think: str = "reasoning") -> str:
    return f"<think>{think}</think><answer>{body}</answer>"


GARBAGE_100KB = ("<answer>[{\"bbox_2d\": [1e9, " + "9" * 10 + "x]]{{(((" * 5000)[:100_000]
