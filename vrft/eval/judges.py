"""Judges: one completion -> its parsed answer in the original media frame, score and correctness.

The judge of a task is its :meth:`vrft.tasks.Task.judge` (each task's file documents what it parses
and what ``correct`` means); it is called with the completion text and the sample's
:class:`~rewards.context.RewardContext`, so it sees each image's frame and the video's clip. The
per-sample score is the task's built-in reward with its default settings, so evaluation and
training agree on what a sample is worth. Judges never raise on model output: an answer that cannot
be parsed gives ``unparseable=True`` with the reason, and scores 0.
"""

from __future__ import annotations

from typing import Callable

from rewards.context import RewardContext
from vrft.tasks import Judgement, get_task

__all__ = ["Judgement", "get_judge", "judge"]


def get_judge(task: str) -> Callable[..., Judgement]:
    """The judge of ``task``; the error suggests the closest task name and lists the valid ones."""
    return get_task(task).judge


def judge(task: str, completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
    """Judge one completion of a sample with the judge of ``task``."""
    kind = get_task(task, f"sample {ctx.sample_id!r} (dataset {ctx.dataset!r})")
    return kind.judge(completion, ctx, require_answer_tag=require_answer_tag)
