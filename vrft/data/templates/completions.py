"""Ground-truth completions: the answer a perfect model would write, in the model's output frame.

Used for ground-truth injection in GRPO and for SFT warm-up. What goes inside <answer> is the task's
``render_answer`` (:mod:`vrft.tasks`): coordinates mapped from the original frame with
:mod:`rewards.frames` and rounded to integers; times relative to the clip the model saw, 2 decimals.
"""

from __future__ import annotations

from rewards.frames import ImageFrame
from vrft.data.sample import Sample
from vrft.tasks import sample_task

GT_TEMPLATES = {"answer": False, "think": True}
"""Named ground-truth completion styles (a dataset's ``gt_template``) -> whether they include <think>."""


def solution_answer(sample: Sample, frames: list[ImageFrame] | None, clip_start: float = 0.0) -> str:
    """What goes inside <answer> for the sample's solution, in the model's output frame."""
    return sample_task(sample).render_answer(sample, frames, clip_start)


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
