"""``answer_match``: multiple-choice letters and short free-text answers."""

from __future__ import annotations

import re

from rewards.builtin._helpers import bad_solution, fail, solution_value
from rewards.context import RewardContext, RewardResult
from rewards.parse_text import normalize_text, parse_choice
from rewards.parsing import ParseError, extract_answer
from rewards.registry import register_reward

MODES = ("auto", "choice", "text")
_GT_LETTER_RE = re.compile(r"\(?\s*([A-Za-z])\s*\)?\.?")


@register_reward("answer_match", score_range=(0.0, 1.0))
def answer_match_reward(completion: str, ctx: RewardContext, *, mode: str = "auto",
                        answer_tag: str = "answer", require_answer_tag: bool = True) -> RewardResult:
    """1 when the single ``<answer>`` matches the solution's ``answer``, else 0; range [0, 1].

    Multiple choice (``mode="choice"``, or ``"auto"`` when the solution answer is one letter such
    as ``"B"``): the answer must name exactly one option, as ``B``, ``(B)``, ``B.``, ``B) text`` or
    ``Answer: B`` (see :func:`rewards.parse_text.parse_choice`); several options (``A, B``,
    ``A or C``) or an empty answer score 0. Short answers (``mode="text"``): exact match after
    lower-casing, dropping punctuation and collapsing whitespace; the solution may give a list of
    acceptable answers.
    """
    if mode not in MODES:
        raise ValueError(f"answer_match: unknown mode {mode!r}; expected one of {MODES}")
    raw = solution_value(ctx, "answer")
    gts = raw if isinstance(raw, list) else [raw]
    if not gts or not all(isinstance(g, (str, int, float)) and not isinstance(g, bool) for g in gts):
        raise bad_solution(ctx, f"answer must be text or a list of texts, got {str(raw)[:80]}")
    gts = [str(g).strip() for g in gts]
    letters = [_GT_LETTER_RE.fullmatch(g) for g in gts]
    choice = mode == "choice" or (mode == "auto" and all(letters))
    if choice and not all(letters):
        raise bad_solution(ctx, f"multiple-choice answer must be a letter, got {gts}")
    try:
        answer = extract_answer(completion, answer_tag, required=require_answer_tag)
        if choice:
            letter = parse_choice(answer)
            return RewardResult(score=1.0 if letter in {m.group(1).upper() for m in letters} else 0.0)
    except ParseError as e:
        return fail(str(e))
    norm = normalize_text(answer)
    if not norm:
        return fail("empty answer after normalisation")
    return RewardResult(score=1.0 if norm in {normalize_text(g) for g in gts} else 0.0)
