"""``tool_use``: a bonus for valid tool calls that led to a right answer, a penalty per failed call."""

from __future__ import annotations

import math
from typing import Any

from rewards.context import RewardContext, RewardResult
from rewards.registry import as_result, get_reward, register_reward

NOT_ACCURACY = ("format", "tool_use")


def _accuracy(completion: str, ctx: RewardContext, accuracy: Any, accuracy_kwargs: dict | None,
              components: dict[str, float] | None) -> float:
    if accuracy is not None:
        if isinstance(accuracy, dict):
            name, kwargs = accuracy.get("name"), dict(accuracy.get("kwargs") or {})
        else:
            name, kwargs = accuracy, {}
        kwargs.update(accuracy_kwargs or {})
        if not isinstance(name, str) or name == "tool_use":
            raise ValueError(f"tool_use: accuracy must name another reward, got {name!r}")
        return as_result(get_reward(name)(completion, ctx, **kwargs), name).score
    value = ctx.meta.get("accuracy")
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"tool_use: ctx.meta['accuracy'] must be a finite number, got {value!r}")
        return float(value)
    for key, score in (components or {}).items():
        if key not in NOT_ACCURACY:
            return score
    raise ValueError("tool_use needs the task reward's score: list the accuracy reward before tool_use "
                     "in the composite, pass kwargs accuracy=<reward name>, or set ctx.meta['accuracy']")


@register_reward("tool_use", score_range=(-1.0, 1.0), uses_components=True)
def tool_use_reward(completion: str, ctx: RewardContext, *, accuracy: str | dict | None = None,
                    accuracy_kwargs: dict | None = None, correct_threshold: float = 0.5,
                    bonus: float = 1.0, failed_penalty: float = 0.25, max_penalized: int = 4,
                    components: dict[str, float] | None = None) -> RewardResult:
    """Tool-use shaping from ``ctx.tool_calls``: range [-1, 1] with the defaults.

    score = ``bonus`` if the answer is right and at least one tool call was valid, else 0, minus
    ``failed_penalty`` per invalid call (at most ``max_penalized`` calls counted), i.e.
    [-failed_penalty * max_penalized, bonus] in general. "Right" means the task reward's score is
    >= ``correct_threshold``, taken from, in order: ``accuracy`` (a reward name such as ``"iou"`` or
    ``{"name": "iou", "kwargs": {...}}``, plus ``accuracy_kwargs``), computed here;
    ``ctx.meta["accuracy"]``; or, inside a composite, the first reward listed before ``tool_use``
    other than ``format`` (``components`` is filled in by the composite). So
    ``[{name: format, weight: 0.2}, {name: answer_match, weight: 1.0}, {name: tool_use, weight: 0.2}]``
    needs no kwargs.
    """
    if bonus < 0 or failed_penalty < 0 or max_penalized < 0:
        raise ValueError("tool_use: bonus, failed_penalty and max_penalized must be >= 0")
    valid = sum(1 for c in ctx.tool_calls if c.valid and c.error is None)
    failed = len(ctx.tool_calls) - valid
    correct = _accuracy(completion, ctx, accuracy, accuracy_kwargs, components) >= correct_threshold
    score = (bonus if correct and valid > 0 else 0.0) - failed_penalty * min(failed, max_penalized)
    return RewardResult(score=score, components={"valid_calls": float(valid), "failed_calls": float(failed),
                                                 "correct": 1.0 if correct else 0.0})
