"""``gui_action``: one GUI action (click, type, scroll) against the solution's action."""

from __future__ import annotations

import re

from rewards.builtin._helpers import bad_solution, fail, solution_value
from rewards.builtin.gui_click import click_score
from rewards.context import RewardContext, RewardResult
from rewards.parse_gui import parse_gui_action
from rewards.parsing import ParseError, extract_answer
from rewards.registry import register_reward

ACTIONS = ("click", "type", "scroll")
_TOKEN_RE = re.compile(r"\w+")


def token_f1(pred: str, gt: str) -> float:
    """Token F1 of lower-cased word tokens (1.0 when both have no tokens)."""
    p, g = _TOKEN_RE.findall(pred[:4096].lower()), _TOKEN_RE.findall(gt.lower())
    if not p or not g:
        return 1.0 if not p and not g else 0.0
    counts: dict[str, int] = {}
    for t in g:
        counts[t] = counts.get(t, 0) + 1
    common = 0
    for t in p:
        if counts.get(t, 0) > 0:
            counts[t] -= 1
            common += 1
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


@register_reward("gui_action", score_range=(0.0, 1.0))
def gui_action_reward(completion: str, ctx: RewardContext, *, f1_threshold: float = 0.5,
                      click_variant: str = "binary", radius: float = 0.1, answer_tag: str = "answer",
                      require_answer_tag: bool = True, image_index: int = 0) -> RewardResult:
    """Score one predicted GUI action against the solution's; range [0, 1].

    The action type must match (else 0). ``click`` is scored by ``gui_click`` (``click_variant``,
    ``radius``); ``type`` scores 1 when the token F1 of the typed text against the solution's
    ``text`` is >= ``f1_threshold`` (0.5), else 0 (F1 is reported as a component); ``scroll`` scores
    1 when the direction matches (case-insensitive). A predicted action other than these three
    scores 0. A bare ``[x, y]`` is a click. Solutions: ``{"action": "click", "bbox": [...]}``,
    ``{"action": "type", "text": "..."}``, ``{"action": "scroll", "direction": "down"}``.
    """
    gt_action = solution_value(ctx, "action")
    if not isinstance(gt_action, str) or gt_action.strip().lower() not in ACTIONS:
        raise bad_solution(ctx, f"solution action must be one of {ACTIONS}, got {gt_action!r}")
    gt_action = gt_action.strip().lower()
    try:
        pred = parse_gui_action(extract_answer(completion, answer_tag, required=require_answer_tag))
    except ParseError as e:
        return fail(str(e))
    if pred.action not in ACTIONS:
        return fail(f"unknown action {pred.action!r}")
    if pred.action != gt_action:
        return fail(f"action {pred.action!r}, expected {gt_action!r}")
    if gt_action == "click":
        return click_score(pred, ctx, variant=click_variant, radius=radius, image_index=image_index)
    if gt_action == "type":
        gt_text = solution_value(ctx, "text")
        if not isinstance(gt_text, str):
            raise bad_solution(ctx, "type solution needs a text string")
        f1 = token_f1(pred.text or "", gt_text)
        return RewardResult(score=1.0 if f1 >= f1_threshold else 0.0, components={"f1": f1})
    gt_dir = solution_value(ctx, "direction")
    if not isinstance(gt_dir, str):
        raise bad_solution(ctx, "scroll solution needs a direction string")
    return RewardResult(score=1.0 if pred.direction == gt_dir.strip().lower() else 0.0)
