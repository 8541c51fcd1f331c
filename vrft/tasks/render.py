"""Ground-truth rendering helpers: coordinates in the model's output frame, rounded to integers.

Boxes and points are mapped from the original frame with :mod:`rewards.frames`, clamped to the
frame's extent and rounded; answers are written as compact JSON.
"""

from __future__ import annotations

import json
from typing import Any

from rewards.frames import NORM_1000, RESIZED_PIXELS, ImageFrame
from vrft.data.sample import Sample


def _limits(frame: ImageFrame) -> tuple[float, float]:
    if frame.output_frame == NORM_1000:
        return 1000.0, 1000.0
    if frame.output_frame == RESIZED_PIXELS:
        return float(frame.resized_size[0]), float(frame.resized_size[1])
    return float(frame.original_size[0]), float(frame.original_size[1])


def frame_ints(values: list[float], frame: ImageFrame) -> list[int]:
    """x, y, x, y, ... values in ``frame``, clamped to its extent and rounded to integers."""
    w, h = _limits(frame)
    lims = [w, h] * (len(values) // 2)
    return [int(round(min(max(v, 0.0), lim))) for v, lim in zip(values, lims)]


def sample_frame(sample: Sample, frames: list[ImageFrame] | None) -> ImageFrame:
    """The frame of the sample's image (``meta.image_index``, default 0); ValueError naming the sample."""
    index = int(sample.meta.get("image_index", 0))
    if not frames or index >= len(frames):
        raise ValueError(f"sample {sample.id}: task {sample.task!r} needs the ImageFrame of image {index} "
                         "to put coordinates in the model's frame")
    return frames[index]


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
