"""``format``: the think / answer structure of a completion."""

from __future__ import annotations

import re
from functools import lru_cache

from rewards.builtin._helpers import fail
from rewards.context import RewardContext, RewardResult
from rewards.parsing import MAX_COMPLETION_CHARS
from rewards.registry import register_reward

MAX_TAGS = 64


@lru_cache(maxsize=32)
def _tag_re(tags: tuple[str, ...]) -> re.Pattern:
    for t in tags:
        if not re.fullmatch(r"[A-Za-z_][\w\-]*", t):
            raise ValueError(f"invalid tag name {t!r}")
    return re.compile(r"<(/?)(" + "|".join(re.escape(t) for t in tags) + r")>")


def _blocks(text: str, tags: tuple[str, ...]) -> list[tuple[str, int, int]] | str:
    """(tag, start, end) of each block, or the reason the tags are not a flat sequence of blocks."""
    blocks, open_tag, open_end = [], None, 0
    for k, m in enumerate(_tag_re(tags).finditer(text)):
        if k >= MAX_TAGS:
            return f"more than {MAX_TAGS} tags"
        closing, tag = m.group(1) == "/", m.group(2)
        if not closing:
            if open_tag is not None:
                return f"<{tag}> nested inside <{open_tag}>"
            open_tag, open_end = tag, m.end()
            blocks.append((tag, m.start(), m.end()))
        else:
            if open_tag != tag:
                return f"</{tag}> without a matching <{tag}>"
            if not text[open_end:m.start()].strip():
                return f"empty <{tag}> block"
            blocks[-1] = (tag, blocks[-1][1], m.end())
            open_tag = None
    if open_tag is not None:
        return f"<{open_tag}> is never closed"
    return blocks


@register_reward("format", score_range=(0.0, 1.0))
def format_reward(completion: str, ctx: RewardContext, *, think_tag: str | None = "think",
                  answer_tag: str = "answer", allow_tool_calls: bool = False,
                  tool_call_tag: str = "tool_call") -> RewardResult:
    """1 when the completion is ``<think>…</think><answer>…</answer>`` (whitespace around), else 0.

    Range [0, 1]. Both blocks must be non-empty, appear once each, in that order, with no nesting
    and no text outside them. ``think_tag=None`` requires the answer block only; the tag names are
    configurable. With ``allow_tool_calls=True`` the completion is a multi-turn trace: any number of
    ``<tool_call>`` and think blocks (text between them, e.g. observations, allowed) may precede
    the single answer block, which must come last and be preceded by a think block when
    ``think_tag`` is set.
    """
    if not isinstance(completion, str):
        return fail("completion is not text")
    text = completion[:MAX_COMPLETION_CHARS]
    tags = tuple(t for t in (think_tag, answer_tag, tool_call_tag if allow_tool_calls else None) if t)
    blocks = _blocks(text, tags)
    if isinstance(blocks, str):
        return fail(blocks)
    names = [b[0] for b in blocks]
    if names.count(answer_tag) != 1:
        return fail(f"{names.count(answer_tag)} <{answer_tag}> blocks; exactly one is required")
    if names[-1] != answer_tag:
        return fail(f"<{names[-1]}> after the <{answer_tag}> block")
    if think_tag and (len(names) < 2 or names[-2] != think_tag):
        return fail(f"no <{think_tag}> block right before <{answer_tag}>")
    if not allow_tool_calls and think_tag and names.count(think_tag) != 1:
        return fail(f"{names.count(think_tag)} <{think_tag}> blocks; exactly one is required")
    if text[blocks[-1][2]:].strip():
        return fail(f"text after </{answer_tag}>")
    if not allow_tool_calls:
        gaps = [text[:blocks[0][1]]] + [text[a[2]:b[1]] for a, b in zip(blocks, blocks[1:])]
        if any(g.strip() for g in gaps):
            return fail("text outside the think / answer blocks")
    return RewardResult(score=1.0)
