"""Checks that a solution has the shape its task needs (see DESIGN: solutions are in the original
media frame). Used by the native loader, whose rows state solutions directly."""

from __future__ import annotations

import math
from typing import Any

from vrft.data.loaders.common import RowError, answer_text, parse_box
from vrft.data.sample import TASKS

GUI_ACTIONS = ("click", "type")


def validate_solution(task: str, solution: Any, meta: dict[str, Any]) -> dict[str, Any]:
    """The solution, normalised (boxes as floats, answers as strings); RowError when malformed."""
    if task not in TASKS:
        raise RowError(f"unknown task {task!r}; valid tasks: {list(TASKS)}")
    if not isinstance(solution, dict):
        raise RowError(f"solution must be an object, got {type(solution).__name__}")
    sol = dict(solution)
    if task == "grounding":
        boxes = sol.get("boxes")
        if not isinstance(boxes, list) or not boxes:
            raise RowError("grounding solution needs 'boxes': a non-empty list of [x1, y1, x2, y2]")
        sol["boxes"] = [parse_box(b, "solution box") for b in boxes]
    elif task == "detection":
        objs = sol.get("objects")
        if not isinstance(objs, list):
            raise RowError("detection solution needs 'objects': a list of {bbox, label}")
        out = []
        for o in objs:
            if not isinstance(o, dict) or not isinstance(o.get("label"), str):
                raise RowError(f"detection object needs 'bbox' and a string 'label', got {o!r}")
            out.append({**o, "bbox": parse_box(o.get("bbox"), "object bbox")})
        sol["objects"] = out
    elif task in ("chart", "vqa", "mcq"):
        if "answer" not in sol:
            raise RowError(f"{task} solution needs 'answer'")
        sol["answer"] = answer_text(sol["answer"])
    elif task == "gui":
        action = sol.get("action")
        if action == "click":
            sol["bbox"] = parse_box(sol.get("bbox"), "click bbox")
        elif action == "type":
            if not isinstance(sol.get("text"), str):
                raise RowError("gui type solution needs a string 'text'")
        else:
            raise RowError(f"gui solution 'action' must be one of {list(GUI_ACTIONS)}, got {action!r}")
    elif task == "temporal":
        seg = sol.get("segment")
        duration = meta.get("duration")
        if not isinstance(seg, list) or len(seg) != 2 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in seg):
            raise RowError(f"temporal solution needs 'segment': [start, end] seconds, got {seg!r}")
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration <= 0:
            raise RowError(f"temporal samples need a positive meta.duration, got {duration!r}")
        if not 0 <= seg[0] < seg[1] <= duration:
            raise RowError(f"segment {seg} must satisfy 0 <= start < end <= duration ({duration})")
        sol["segment"] = [float(seg[0]), float(seg[1])]
    return sol
