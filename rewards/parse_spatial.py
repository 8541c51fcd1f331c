"""Boxes, points and detection lists out of an answer (coordinates in the model's output frame).

Accepted forms (after an optional ```` ```json ```` fence):
- box: ``{"bbox_2d": [x1, y1, x2, y2]}`` (also keys ``bbox`` / ``box``), a bare ``[x1, y1, x2, y2]``,
  a list of such objects (Qwen's native form; the first one is used), or a bare box in text;
- point: ``{"point_2d": [x, y]}`` (also ``point`` / ``coordinate``), a bare ``[x, y]`` or ``(x, y)``;
- detections: ``[{"bbox_2d": [...], "label": "cat", "confidence": 0.9}, ...]`` or one such object.
Numbers must be real, finite JSON numbers within :data:`rewards.parsing.MAX_ABS_NUMBER`; box
corners are sorted, so a box with swapped corners is the same box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rewards.geometry import sort_box
from rewards.parsing import NO_JSON, ParseError, finite_number, load_structured, number_list

BOX_KEYS = ("bbox_2d", "bbox", "box")
POINT_KEYS = ("point_2d", "point", "coordinate")
MAX_DETECTIONS = 100
"""Detection lists longer than this are rejected (see the ``detection`` reward's ``max_predictions``)."""

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_BOX_TEXT_RE = re.compile(rf"\[\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*\]")
_POINT_TEXT_RE = re.compile(rf"[\[(]\s*({_NUM})\s*,\s*({_NUM})\s*[\])]")


@dataclass(frozen=True)
class Detection:
    """One predicted object: a sorted box in the model's output frame, a label, an optional confidence."""

    box: tuple[float, float, float, float]
    label: str = ""
    confidence: float | None = None


def _text_number(s: str, what: str) -> float:
    try:
        return finite_number(float(s), what)
    except OverflowError:
        raise ParseError(f"{what} is absurdly large") from None


def _find_key(obj: dict, keys: tuple[str, ...]) -> Any:
    for k in keys:
        if k in obj:
            return obj[k]
    return None


def box_from_json(value: Any) -> list[float]:
    """A sorted box from a decoded JSON value: an object with a box key, a 4-number list, or a list
    whose first element is one of those."""
    if isinstance(value, list) and value and isinstance(value[0], (dict, list)):
        value = value[0]
    if isinstance(value, dict):
        raw = _find_key(value, BOX_KEYS)
        if raw is None:
            raise ParseError(f"object has no box key ({', '.join(BOX_KEYS)})")
        return sort_box(number_list(raw, 4, "box"))
    if isinstance(value, list):
        if not value:
            raise ParseError("empty list, no box")
        return sort_box(number_list(value, 4, "box"))
    raise ParseError(f"expected a box, got JSON {type(value).__name__}")


def parse_box(answer: str) -> list[float]:
    """The first (or only) box of an answer, corners sorted, in the model's output frame."""
    value = load_structured(answer)
    if value is not NO_JSON:
        return box_from_json(value)
    m = _BOX_TEXT_RE.search(answer)
    if m is None:
        raise ParseError("no box [x1, y1, x2, y2] found")
    return sort_box([_text_number(g, "box") for g in m.groups()])


def point_from_json(value: Any) -> list[float]:
    """A point from a decoded JSON value: an object with a point key, or a 2-number list."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], (dict, list)):
        value = value[0]
    if isinstance(value, dict):
        raw = _find_key(value, POINT_KEYS)
        if raw is None:
            raise ParseError(f"object has no point key ({', '.join(POINT_KEYS)})")
        return number_list(raw, 2, "point")
    return number_list(value, 2, "point")


def parse_point(answer: str) -> list[float]:
    """The single point of an answer in the model's output frame (several bare points fail)."""
    value = load_structured(answer)
    if value is not NO_JSON:
        return point_from_json(value)
    found = _POINT_TEXT_RE.findall(answer, 0, 4096)
    if not found:
        raise ParseError("no point [x, y] found")
    if len(found) > 1:
        raise ParseError(f"{len(found)} points given; exactly one is allowed")
    return [_text_number(g, "point") for g in found[0]]


def _detection(item: Any, k: int) -> Detection:
    if isinstance(item, list):
        return Detection(box=tuple(sort_box(number_list(item, 4, f"object {k} box"))))
    if not isinstance(item, dict):
        raise ParseError(f"object {k} is {type(item).__name__}, not an object with a box")
    raw = _find_key(item, BOX_KEYS)
    if raw is None:
        raise ParseError(f"object {k} has no box key ({', '.join(BOX_KEYS)})")
    box = tuple(sort_box(number_list(raw, 4, f"object {k} box")))
    label = item.get("label", "")
    if not isinstance(label, str):
        raise ParseError(f"object {k} label is {type(label).__name__}, not text")
    conf = item.get("confidence", item.get("score"))
    if conf is not None:
        conf = finite_number(conf, f"object {k} confidence")
        if not 0.0 <= conf <= 1.0:
            raise ParseError(f"object {k} confidence {conf:g} is outside [0, 1]")
    return Detection(box=box, label=label.strip(), confidence=conf)


def parse_detections(answer: str, max_items: int = MAX_DETECTIONS) -> list[Detection]:
    """Every predicted object of a detection answer (an empty list is a valid "nothing here").

    More than ``max_items`` objects, or any malformed object, fails the whole answer.
    """
    value = load_structured(answer)
    if value is NO_JSON:
        raise ParseError("detection answer is not a JSON list of objects")
    if isinstance(value, dict) or (isinstance(value, list) and len(value) == 4
                                   and not any(isinstance(v, (list, dict)) for v in value)):
        value = [value]  # one object, or one bare box
    if not isinstance(value, list):
        raise ParseError(f"expected a list of objects, got JSON {type(value).__name__}")
    if len(value) > max_items:
        raise ParseError(f"{len(value)} objects predicted, more than the cap of {max_items}")
    return [_detection(item, k) for k, item in enumerate(value)]
