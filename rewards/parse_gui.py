"""GUI actions out of an answer (coordinates in the model's output frame).

Accepted: ``{"action": "click", "point_2d": [x, y]}`` (or a box under ``bbox_2d``, whose centre is
the click), ``{"action": "type", "text": "..."}``, ``{"action": "scroll", "direction": "down"}``, any
other ``{"action": name, ...}`` (kept as an unknown action), an object with only a point or box (a
click), a bare ``[x, y]`` / ``[x1, y1, x2, y2]`` (a click), or exactly one ``[x, y]`` / ``(x, y)``
in text. A list of several actions fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rewards.parse_spatial import BOX_KEYS, POINT_KEYS, parse_box, parse_point
from rewards.geometry import sort_box
from rewards.parsing import NO_JSON, ParseError, load_structured, number_list

_ACTION_RE = re.compile(r"[a-z][a-z0-9_\-]{0,31}")


@dataclass(frozen=True)
class GuiAction:
    """A parsed action; ``point`` / ``box`` are set for clicks, ``text`` for type, ``direction`` for scroll."""

    action: str
    point: tuple[float, float] | None = None
    box: tuple[float, float, float, float] | None = None
    text: str | None = None
    direction: str | None = None


def _click(obj: dict) -> GuiAction:
    for k in POINT_KEYS:
        if k in obj:
            return GuiAction("click", point=tuple(number_list(obj[k], 2, "click point")))
    for k in BOX_KEYS:
        if k in obj:
            return GuiAction("click", box=tuple(sort_box(number_list(obj[k], 4, "click box"))))
    raise ParseError("click without a point_2d or bbox_2d")


def action_from_json(value: Any) -> GuiAction:
    """A :class:`GuiAction` from a decoded JSON value."""
    if isinstance(value, list) and value and isinstance(value[0], (dict, list)):
        if len(value) > 1:
            raise ParseError(f"{len(value)} actions given; exactly one is allowed")
        value = value[0]
    if isinstance(value, list):
        if len(value) == 2:
            return GuiAction("click", point=tuple(number_list(value, 2, "click point")))
        return GuiAction("click", box=tuple(sort_box(number_list(value, 4, "click box"))))
    if not isinstance(value, dict):
        raise ParseError(f"expected an action object, got JSON {type(value).__name__}")
    name = value.get("action")
    if name is None:
        return _click(value)
    if not isinstance(name, str) or not _ACTION_RE.fullmatch(name.strip().lower()):
        raise ParseError(f"action name {str(name)[:40]!r} is not a short word")
    name = name.strip().lower()
    if name == "click":
        return _click(value)
    if name == "type":
        text = value.get("text")
        if not isinstance(text, str):
            raise ParseError("type action without a text string")
        return GuiAction("type", text=text)
    if name == "scroll":
        direction = value.get("direction")
        if not isinstance(direction, str):
            raise ParseError("scroll action without a direction string")
        return GuiAction("scroll", direction=direction.strip().lower())
    return GuiAction(name)


def parse_gui_action(answer: str) -> GuiAction:
    """The single GUI action of an answer."""
    value = load_structured(answer)
    if value is not NO_JSON:
        return action_from_json(value)
    try:
        return GuiAction("click", point=tuple(parse_point(answer)))
    except ParseError as point_error:
        try:
            return GuiAction("click", box=tuple(parse_box(answer)))
        except ParseError:
            raise point_error from None
