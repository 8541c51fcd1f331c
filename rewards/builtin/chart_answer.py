"""``chart_answer``: ChartQA relaxed accuracy (numbers within 5%, text exact, lists element-wise)."""

from __future__ import annotations

import json
import math
from typing import Any

from rewards.builtin._helpers import fail, solution_value
from rewards.context import RewardContext, RewardResult
from rewards.numbers import MAX_ABS_VALUE, ParsedNumber, try_parse_number
from rewards.parsing import NO_JSON, ParseError, extract_answer, load_structured
from rewards.registry import register_reward


def _as_number(value: Any) -> ParsedNumber | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            f = float(value)
        except OverflowError:  # a JSON int with hundreds of digits
            return None
        return ParsedNumber(f) if math.isfinite(f) and abs(f) <= MAX_ABS_VALUE else None
    return try_parse_number(value) if isinstance(value, str) else None


def _text(value: Any) -> str:
    s = value if isinstance(value, str) else json.dumps(value)
    return " ".join(s.lower().split()).rstrip(".").strip()


def _number_score(p: float, g: float, tolerance: float, dense: bool) -> float:
    if g == 0.0:
        return 1.0 if p == 0.0 else 0.0  # a zero target needs exactly zero
    rel = abs(p - g) / abs(g)
    if dense:
        return 1.0 / (1.0 + rel)
    return 1.0 if rel <= tolerance + 1e-12 else 0.0


def relaxed_match(pred: Any, gt: Any, *, tolerance: float = 0.05, dense: bool = False) -> float:
    """Relaxed accuracy of one value: numbers within ``tolerance`` relative error (``dense``:
    1 / (1 + relative error)), otherwise case-insensitive exact text. A percentage on one side
    only also matches the other side's value as a fraction (gt ``45%`` matches ``45`` and ``0.45``)."""
    g = _as_number(gt)
    if g is None:
        return 1.0 if _text(pred) == _text(gt) else 0.0
    p = _as_number(pred)
    if p is None:
        return 0.0
    pairs = [(p.value, g.value)]
    if g.percent and not p.percent:
        pairs.append((p.value, g.value / 100.0))
    elif p.percent and not g.percent:
        pairs.append((p.value / 100.0, g.value))
    return max(_number_score(a, b, tolerance, dense) for a, b in pairs)


def _gt_value(raw: Any) -> Any:
    if isinstance(raw, str) and raw.strip()[:1] == "[":
        try:
            value = json.loads(raw)
            if isinstance(value, list):
                return value
        except ValueError:
            pass
    return raw


@register_reward("chart_answer", score_range=(0.0, 1.0))
def chart_answer_reward(completion: str, ctx: RewardContext, *, tolerance: float = 0.05,
                        dense: bool = False, answer_tag: str = "answer",
                        require_answer_tag: bool = True) -> RewardResult:
    """ChartQA relaxed accuracy of the single ``<answer>``; range [0, 1].

    Numbers (thousands separators, currency signs, ``%``, number words like ``twelve`` normalised)
    score 1 when |pred - gt| / |gt| <= ``tolerance`` (5%), a gt of 0 needing exactly 0; text is a
    case-insensitive exact match (whitespace collapsed, a final full stop ignored). A list answer
    (solution ``{"answer": ["a", 3]}`` or a JSON-list string) needs a JSON list of the same length
    and scores the mean of the element-wise matches. ``dense=True`` scores numbers 1 / (1 +
    relative error) (still exact for a gt of 0).
    """
    gt = _gt_value(solution_value(ctx, "answer"))
    try:
        answer = extract_answer(completion, answer_tag, required=require_answer_tag)
        structured = load_structured(answer) if isinstance(gt, list) else NO_JSON
    except ParseError as e:
        return fail(str(e))
    if isinstance(gt, list):
        if not isinstance(structured, list):
            return fail("the answer should be a JSON list")
        if len(structured) != len(gt):
            return fail(f"list of {len(structured)} values, expected {len(gt)}")
        if not gt:
            return RewardResult(score=1.0)
        scores = [relaxed_match(p, g, tolerance=tolerance, dense=dense) for p, g in zip(structured, gt)]
        return RewardResult(score=sum(scores) / len(scores))
    score = relaxed_match(answer, gt, tolerance=tolerance, dense=dense)
    if score == 0.0 and _as_number(gt) is not None and _as_number(answer) is None:
        return fail("the answer is not a number")
    return RewardResult(score=score)
