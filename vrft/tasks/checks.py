"""Solution checks the built-in tasks share; each raises :class:`SolutionError` saying what is wrong."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from vrft.tasks.base import SolutionError

_NUM = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_BOX_RE = re.compile(rf"\[\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*\]")


def finite_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_box(value: Any, what: str = "box") -> list[float]:
    """A valid [x1, y1, x2, y2] box of floats (x2 > x1, y2 > y1) from a list of 4 finite numbers or a
    string containing one."""
    if isinstance(value, str):
        m = _BOX_RE.search(value)
        if not m:
            raise SolutionError(f"{what}: no [x1, y1, x2, y2] box found in {value!r}")
        value = [float(g) for g in m.groups()]
    if not isinstance(value, (list, tuple)):
        raise SolutionError(f"{what} must be a list of 4 numbers [x1, y1, x2, y2], got {value!r}")
    if len(value) != 4:
        raise SolutionError(f"{what} must have 4 numbers [x1, y1, x2, y2], got {len(value)}")
    for v in value:
        if not finite_number(v):
            raise SolutionError(f"{what} has a non-numeric or non-finite value {v!r}")
    x1, y1, x2, y2 = (float(v) for v in value)
    if x2 <= x1 or y2 <= y1:
        raise SolutionError(f"{what} {[x1, y1, x2, y2]} has no area (needs x2 > x1 and y2 > y1)")
    return [x1, y1, x2, y2]


def answer_text(value: Any, what: str = "answer") -> str:
    """Answers are strings; numbers are written plainly and lists as JSON lists."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SolutionError(f"{what} is not finite: {value!r}")
        return f"{value:g}" if value == int(value) else repr(value)
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise SolutionError(f"{what} must be a non-empty string or number, got {value!r}")
