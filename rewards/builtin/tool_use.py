"""``tool_use``: a bonus for valid tool calls that led to a right answer, a penalty per failed call."""

from __future__ import annotations

import math
from typing import Any

from rewards.builtin._helpers import bad_solution
from rewards.context import RewardContext, RewardResult
from rewards.registry import as_result, get_reward, register_reward


def _accuracy(completion: str, ctx: RewardContext, accuracy: Any, accuracy_kwargs: dict | None) -> float:
    if accuracy is None:
        value = ctx.meta.get("accuracy")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad_solution(ctx, "tool_use needs kwargs accuracy=<reward name> or a finite "
                                    f"ctx.meta['accuracy'], got {value!r}")
        return float(value)
    if isinstance(accuracy, dict):
        name, kwargs = accuracy.get("name"), dict(accuracy.get("kwargs") or {})
    else:
        name, kwargs = accuracy, {}
    kwargs.update(accuracy_kwargs or {})
    if not isinstance(name, str) or name == "tool_use":
        raise ValueError(f"tool_use: accuracy must name another reward, got {name!r}")
    return as_result(get_reward(name)(completion, ctx, **kwargs), name).score


@register_reward("tool_use", score_range=(-1.0, 1.0))
def tool_use_reward(completion: str, ctx: RewardContext, *, accuracy: str | dict | None = None,
                    accuracy_kwargs: dict | None = None, correct_threshold: float = 0.5,
                    bonus: float = 1.0, failed_penalty: float = 0.25, max_penalized: int = 4) -> RewardResult:
    """Tool-use shaping from ``ctx.tool_calls``: range [-1, 1] with the defaults.

    score = ``bonus`` if the answer is right and at least one tool call was valid, else 0,
    minus ``failed_penalty`` per invalid call (at most ``max_penalized`` calls counted), i.e.
    [-failed_penalty * max_penalized, bonus] in general. "Right" means the accuracy reward's score
    is >= ``correct_threshold``: ``accuracy`` names that reward (``"iou"`` or
    ``{"name": "iou", "kwargs": {...}}``, plus ``accuracy_kwargs``) and it is computed here, or,
    without ``accuracy``, ``ctx.meta["accuracy"]`` holds the score (set by whoever already has it).
    List it next to the accuracy reward in a composite spec, e.g. ``{"name": "tool_use",
    "weight": 0.2, "kwargs": {"accuracy": "iou"}}``.
    """
    if bonus < 0 or failed_penalty < 0 or max_penalized < 0:
        raise ValueError("tool_use: bonus, failed_penalty and max_penalized must be >= 0")
    valid = sum(1 for c in ctx.tool_calls if c.valid and c.error is None)
    failed = len(ctx.tool_calls) - valid
    correct = _accuracy(completion, ctx, accuracy, accuracy_kwargs) >= correct_threshold
    score = (bonus if correct and valid > 0 else 0.0) - failed_penalty * min(failed, max_penalized)
    return RewardResult(score=score, components={"valid_calls": float(valid), "failed_calls": float(failed),
                                                 "correct": 1.0 if correct else 0.0})
