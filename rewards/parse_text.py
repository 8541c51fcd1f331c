"""Multiple-choice letters and short free-text answers.

:func:`parse_choice` accepts exactly one option: ``B``, ``(B)``, ``B.``, ``B)``, ``B: text``,
``B) text``, ``(B) text``, ``Answer: B``, ``The answer is (B).``; a lone lowercase letter (``b``) only
when it is the whole answer. A letter followed by plain text (``B because``, ``I think B``) is not
accepted, nor are several options (``A, B``, ``A or C``, ``A and B``, ``A/B``, ``B) cat (C) dog``),
so listing options never earns credit.
"""

from __future__ import annotations

import re
import unicodedata

from rewards.parsing import ParseError

_PREFIX_RE = re.compile(
    r"^(?:the\s+)?(?:correct\s+|final\s+|best\s+)?(?:answer|option|choice)(?:\s+is)?\s*[:：]?\s*", re.I)
_LONE_RE = re.compile(r"\(?\s*([A-Za-z])\s*\)?\s*\.?")
_PAREN_RE = re.compile(r"\(\s*([A-Z])\s*\)\s*[.:]?\s*(.*)", re.S)
_MARK_RE = re.compile(r"([A-Z])\s*[.:)]\s*(.*)", re.S)
_SEVERAL_RE = re.compile(r"(?:,|;|/|&|\+|\band\b|\bor\b)\s*\(?\s*[A-Za-z]\s*\)?(?:[\s.,;:)]|$)", re.I)
_OTHER_MARK_RE = re.compile(r"(?:^|[\s,;/])(?:\(\s*[A-Z]\s*\)|[A-Z]\))")
_LETTER_ONLY_RE = re.compile(r"\(?\s*[A-Z]\s*\)?\s*[.,]?")


def parse_choice(answer: str) -> str:
    """The single option letter (upper case) of a multiple-choice answer; ParseError otherwise."""
    s = answer.strip()[:2048]
    s = _PREFIX_RE.sub("", s, count=1).strip()
    if not s:
        raise ParseError("empty answer")
    m = _LONE_RE.fullmatch(s)
    if m:
        return m.group(1).upper()
    m = _PAREN_RE.fullmatch(s) or _MARK_RE.fullmatch(s)
    if m is None:
        raise ParseError("answer is not a single option letter")
    rest = m.group(2).strip()
    if _SEVERAL_RE.match(rest) or _LETTER_ONLY_RE.fullmatch(rest) or _OTHER_MARK_RE.search(rest):
        raise ParseError("several options given; exactly one is allowed")
    return m.group(1)



def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P") or unicodedata.category(ch).startswith("S")


def normalize_text(text: str) -> str:
    """Lower case, apostrophes dropped, other punctuation and symbols -> spaces, whitespace collapsed."""
    s = text[:4096].lower().replace("'", "").replace("\u2019", "")
    s = "".join(" " if _is_punct(ch) else ch for ch in s)
    return " ".join(s.split())
