"""Ground-truth completions: the answer a perfect model would write, in the model's output frame.

Used for ground-truth injection in GRPO and for SFT warm-up. Coordinates are mapped from the
original frame with :func:`rewards.frames.box_from_original` and rounded to integers; times are
relative to the clip the model saw, with 2 decimals.
"""

from __future__ import annotations

import json

from rewards.frames import NORM_1000, RESIZED_PIXELS, ImageFrame, box_from_original, point_from_original, \
    segment_from_original
from vrft.data.sample import Sample

GT_TEMPLATES = {"answer": False, "think": True}
"""Named ground-truth completion styles (a dataset's ``gt_template``) -> whether they include <think>."""


def _limits(frame: ImageFrame) -> tuple[float, float]:
    if frame.output_frame == NORM_1000:
        return 1000.0, 1000.0
    if frame.output_frame == RESIZED_PIXELS:
        return float(frame.resized_size[0]), float(frame.resized_size[1])
    return float(frame.original_size[0]), float(frame.original_size[1])


def _ints(values: list[float], frame: ImageFrame) -> list[int]:
    w, h = _limits(frame)
    lims = [w, h] * (len(values) // 2)
    return [int(round(min(max(v, 0.0), lim))) for v, lim in zip(values, lims)]


def _frame(sample: Sample, frames: list[ImageFrame] | None) -> ImageFrame:
    index = int(sample.meta.get("image_index", 0))
    if not frames or index >= len(frames):
        raise ValueError(f"sample {sample.id}: task {sample.task!r} needs the ImageFrame of image {index} "
                         "to put coordinates in the model's frame")
    return frames[index]


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


def solution_answer(sample: Sample, frames: list[ImageFrame] | None, clip_start: float = 0.0) -> str:
    """What goes inside <answer> for the sample's solution, in the model's output frame."""
    sol, task = sample.solution, sample.task
    if task == "grounding":
        frame = _frame(sample, frames)
        boxes = [{"bbox_2d": _ints(box_from_original(b, frame), frame)} for b in sol["boxes"]]
        return _dumps(boxes[0] if len(boxes) == 1 else boxes)
    if task == "detection":
        frame = _frame(sample, frames)
        return _dumps([{"bbox_2d": _ints(box_from_original(o["bbox"], frame), frame), "label": o["label"]}
                       for o in sol["objects"]])
    if task in ("chart", "vqa", "mcq"):
        return str(sol["answer"])
    if task == "gui":
        if sol["action"] == "type":
            return _dumps({"action": "type", "text": sol["text"]})
        frame = _frame(sample, frames)
        x1, y1, x2, y2 = sol["bbox"]
        point = point_from_original([(x1 + x2) / 2, (y1 + y2) / 2], frame)
        return _dumps({"action": "click", "point_2d": _ints(point, frame)})
    if task == "temporal":
        s, e = segment_from_original(sol["segment"], clip_start)
        return f"{max(s, 0.0):.2f} to {max(e, 0.0):.2f}"
    raise ValueError(f"sample {sample.id}: no ground-truth completion for task {task!r}")


def render_solution_completion(sample: Sample, frames: list[ImageFrame] | None, clip_start: float = 0.0,
                               think: bool = False) -> str:
    """The full ground-truth completion, e.g. ``<answer>{"bbox_2d": [12, 40, 100, 120]}</answer>``.

    ``frames``: the ImageFrame of each image as the model saw it (None for tasks without
    coordinates). ``think=True`` prepends a short ``<think>`` block (``meta.reasoning`` when the
    sample has one).
    """
    answer = f"<answer>{solution_answer(sample, frames, clip_start)}</answer>"
    if not think:
        return answer
    reasoning = sample.meta.get("reasoning") or "I examine the input carefully and work out the answer."
    return f"<think>{reasoning}</think>\n{answer}"
