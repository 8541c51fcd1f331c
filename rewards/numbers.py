"""Numbers as people write them in chart / VQA answers: ``1,234``, ``$12.5``, ``45%``, ``twelve``.

:func:`parse_number` returns the value and whether it carried a percent sign; it never evaluates
anything and rejects NaN / inf / absurdly large values. Used by ``chart_answer`` and evaluation.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MAX_NUMBER_CHARS = 64
MAX_ABS_VALUE = 1e15

_CURRENCY = "$€£¥₹₩"
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d{1,3})?")
_THOUSANDS_RE = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SPACE_THOUSANDS_RE = re.compile(r"[+-]?\d{1,3}(?: \d{3})+(?:\.\d+)?")

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}


@dataclass(frozen=True)
class ParsedNumber:
    """A number and whether it was written as a percentage (``45%`` -> value 45, percent True)."""

    value: float
    percent: bool = False


def _words_to_int(text: str) -> int | None:
    words = text.replace("-", " ").split()
    if not words or len(words) > 12:
        return None
    negative = words[0] in ("minus", "negative")
    if negative:
        words = words[1:]
    total, current, seen = 0, 0, False
    for w in words:
        if w == "and" and seen:
            continue
        if w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w == "hundred":
            current = (current or 1) * 100
        elif w in _SCALES:
            total += (current or 1) * _SCALES[w]
            current = 0
        else:
            return None
        seen = True
    if not seen:
        return None
    value = total + current
    return -value if negative else value


def parse_number(text: str) -> ParsedNumber:
    """Parse one number; raises ``ValueError`` when ``text`` is not a single number.

    Handles surrounding whitespace, a trailing full stop, a unicode minus, a leading ``+``,
    currency signs, ``1,234`` / ``1 234`` thousands separators, ``%`` or ``percent``, and number
    words up to the billions (``twelve``, ``twenty-one``, ``one hundred and five``).
    """
    s = text.strip().lower()
    if not s or len(s) > MAX_NUMBER_CHARS:
        raise ValueError("not a number")
    s = s.replace("\u2212", "-").rstrip(".").strip()
    percent = False
    if s.endswith("%"):
        percent, s = True, s[:-1].strip()
    elif s.endswith("percent"):
        percent, s = True, s[: -len("percent")].strip()
    sign = ""
    if s[:1] in ("+", "-"):
        sign, s = s[0], s[1:].strip()
    s = s.strip(_CURRENCY).strip()
    if s[:1] in ("+", "-") and not sign:
        sign, s = s[0], s[1:].strip()
    if _THOUSANDS_RE.fullmatch(s):
        s = s.replace(",", "")
    elif _SPACE_THOUSANDS_RE.fullmatch(s):
        s = s.replace(" ", "")
    if _NUMBER_RE.fullmatch(s):
        value = float(sign + s)
    else:
        as_int = _words_to_int(s)
        if as_int is None:
            raise ValueError("not a number")
        value = float(-as_int if sign == "-" else as_int)
    if not math.isfinite(value) or abs(value) > MAX_ABS_VALUE:
        raise ValueError("number is not finite or absurdly large")
    return ParsedNumber(value=value, percent=percent)


def try_parse_number(text: str) -> ParsedNumber | None:
    """:func:`parse_number`, or None when the text is not a number."""
    try:
        return parse_number(text)
    except ValueError:
        return None
