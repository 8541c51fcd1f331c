"""Temporal segments out of an answer, in seconds relative to the clip the model saw.

Accepted: ``12.50 to 20.10``, ``12.5 - 20.1`` (also en/em dash or ``~``), each number optionally
followed by ``s`` / ``sec`` / ``seconds``, inside a sentence (``from 12.5s to 20.1s``), or JSON
``[12.5, 20.1]`` / ``{"segment": [12.5, 20.1]}``. The order is kept as given (a reward decides what
start > end means); several different segments in one answer fail.
"""

from __future__ import annotations

import re
from typing import Any

from rewards.parsing import MAX_ABS_NUMBER, NO_JSON, ParseError, load_structured, number_list

SEGMENT_KEYS = ("segment", "timestamps", "time")
_T = r"(\d{1,9}(?:\.\d{1,9})?)"
_UNIT = r"(?:\s*(?:seconds|second|secs|sec|s)\b)?"
_SEGMENT_RE = re.compile(rf"(?<![\w.]){_T}{_UNIT}\s*(?:to|-|–|—|~)\s*{_T}{_UNIT}(?!\w|\.\d)", re.I)


def segment_from_json(value: Any) -> list[float]:
    """(start, end) from a decoded JSON 2-number list or an object with a segment key."""
    if isinstance(value, dict):
        for k in SEGMENT_KEYS:
            if k in value:
                value = value[k]
                break
        else:
            raise ParseError(f"object has no segment key ({', '.join(SEGMENT_KEYS)})")
    seg = number_list(value, 2, "segment")
    if seg[0] < 0 or seg[1] < 0:
        raise ParseError("segment has a negative time")
    return seg


def parse_segment(answer: str) -> list[float]:
    """The single (start, end) segment of an answer, in seconds, order as given."""
    value = load_structured(answer)
    if value is not NO_JSON:
        return segment_from_json(value)
    found: list[tuple[float, float]] = []
    for m in _SEGMENT_RE.finditer(answer, 0, 8192):
        seg = (float(m.group(1)), float(m.group(2)))
        if seg not in found:
            found.append(seg)
        if len(found) > 1:
            raise ParseError("several different segments given; exactly one is allowed")
    if not found:
        raise ParseError("no segment like '12.5 to 20.1' found")
    start, end = found[0]
    if start > MAX_ABS_NUMBER or end > MAX_ABS_NUMBER:
        raise ParseError("segment time is absurdly large")
    return [start, end]
