"""Untrusted model output -> answer text: the single ``<answer>`` block, bounded JSON, checked numbers.

Everything here treats its input as hostile: inputs are cut to a bounded size first, regexes are
linear, JSON goes through ``json`` (never ``eval``) with NaN / Infinity rejected, and every failure is
a :class:`ParseError` whose message is the human-readable reason a reward reports.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

MAX_COMPLETION_CHARS = 65_536
"""Only this many leading characters of a completion are looked at (about 16k tokens)."""
MAX_ANSWER_CHARS = 32_768
"""Answers longer than this are rejected before any JSON or regex work."""
MAX_ABS_NUMBER = 1e6
"""Coordinates, times and confidences beyond this magnitude are rejected as absurd."""


class ParseError(ValueError):
    """Model output that could not be parsed; ``str(err)`` is the reason reported by rewards."""

    @property
    def reason(self) -> str:
        return str(self)


@lru_cache(maxsize=64)
def _tag_pair(tag: str) -> tuple[str, str]:
    if not tag or not re.fullmatch(r"[A-Za-z_][\w\-]*", tag):
        raise ValueError(f"invalid tag name {tag!r}")
    return f"<{tag}>", f"</{tag}>"


def extract_tag(completion: str, tag: str = "answer", *, required: bool = True) -> str:
    """The stripped content of the single ``<tag>…</tag>`` block of ``completion``.

    Fails (ParseError) on: no block (unless ``required=False``, which then returns the whole
    completion stripped), several or nested blocks, unbalanced tags, a closing tag first, an empty
    block, or an over-long answer. Only the first :data:`MAX_COMPLETION_CHARS` are looked at.
    """
    if not isinstance(completion, str):
        raise ParseError(f"completion is {type(completion).__name__}, not text")
    text = completion[:MAX_COMPLETION_CHARS]
    open_t, close_t = _tag_pair(tag)
    n_open, n_close = text.count(open_t), text.count(close_t)
    if n_open == 0 and n_close == 0:
        if required:
            raise ParseError(f"no {open_t} block")
        content = text.strip()
    else:
        if n_open > 1 or n_close > 1:
            raise ParseError(f"{max(n_open, n_close)} {open_t} tags (several or nested blocks); "
                             f"exactly one block is allowed")
        if n_open != n_close:
            raise ParseError(f"unbalanced {open_t} / {close_t} tags")
        start, end = text.find(open_t), text.find(close_t)
        if end < start:
            raise ParseError(f"{close_t} comes before {open_t}")
        content = text[start + len(open_t):end].strip()
    if not content:
        raise ParseError(f"empty {open_t} block")
    if len(content) > MAX_ANSWER_CHARS:
        raise ParseError(f"answer longer than {MAX_ANSWER_CHARS} characters")
    return content


def extract_answer(completion: str, tag: str = "answer", *, required: bool = True) -> str:
    """The single ``<answer>`` block's stripped content; see :func:`extract_tag` for the failures."""
    return extract_tag(completion, tag, required=required)


_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+\-]*)[ \t]*\r?\n?(.*?)```", re.S)


def strip_code_fence(text: str) -> str:
    """The body of the first ```` ``` ```` fenced block (Qwen wraps JSON in ```` ```json ````), else the text.

    An unterminated fence at the start (the model ran out of tokens) keeps what follows it.
    """
    if "```" not in text:
        return text.strip()
    m = _FENCE_RE.search(text)
    if m:
        return m.group(2).strip()
    head = text.lstrip()
    if head.startswith("```"):
        body = head[3:]
        nl = body.find("\n")
        return (body[nl + 1:] if nl >= 0 else "").strip()
    return text.strip()


def _reject_constant(name: str) -> Any:
    raise ParseError(f"non-finite number {name} in JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def load_json(text: str) -> Any:
    """``json`` decode of bounded text; NaN / Infinity, very long ints and deep nesting -> ParseError."""
    if len(text) > MAX_ANSWER_CHARS:
        raise ParseError(f"JSON longer than {MAX_ANSWER_CHARS} characters")
    try:
        return _DECODER.decode(text)
    except ParseError:
        raise
    except (ValueError, RecursionError) as e:  # JSONDecodeError, int digit limit, nesting
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ParseError(f"invalid JSON: {msg[:120]}") from None


_NO_JSON = object()


def load_structured(answer: str) -> Any:
    """JSON value of an answer that looks like JSON (after removing a code fence), else ``NO_JSON``.

    Answers starting with ``{`` or ``[`` must decode (a ParseError otherwise); other text returns
    the :data:`NO_JSON` sentinel so callers can fall back to their text patterns.
    """
    body = strip_code_fence(answer)
    if body[:1] in ("{", "["):
        return load_json(body)
    return _NO_JSON


NO_JSON = _NO_JSON


def finite_number(value: Any, what: str = "number", *, max_abs: float = MAX_ABS_NUMBER) -> float:
    """``value`` as a float when it is a real JSON number (not a bool or a string), finite and bounded."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParseError(f"{what} is {type(value).__name__} {_short(value)}, not a number")
    try:
        f = float(value)
    except OverflowError:
        raise ParseError(f"{what} is absurdly large") from None
    if not math.isfinite(f):
        raise ParseError(f"{what} is not finite")
    if abs(f) > max_abs:
        raise ParseError(f"{what} {f:g} is absurdly large (|x| > {max_abs:g})")
    return f


def number_list(value: Any, n: int, what: str) -> list[float]:
    """A JSON list of exactly ``n`` finite numbers, as floats."""
    if not isinstance(value, (list, tuple)):
        raise ParseError(f"{what} is {type(value).__name__}, not a list of {n} numbers")
    if len(value) != n:
        raise ParseError(f"{what} has {len(value)} values, expected {n}")
    return [finite_number(v, what) for v in value]


def _short(value: Any, n: int = 40) -> str:
    r = repr(value)
    return r if len(r) <= n else r[: n - 3] + "..."
