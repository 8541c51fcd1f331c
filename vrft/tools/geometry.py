"""Pure geometry of the zoom tools: model-frame box / clip -> region of the original media.

Boxes arrive in the model's output frame and are mapped with :func:`rewards.frames.box_to_original`
(the one tested mapping), then clamped to the image, grown to a minimum side around their centre
and checked for an aspect ratio the Qwen processors accept. Clips arrive in the model's time frame
(relative to the clip start for Qwen2/2.5-VL, absolute for Qwen3-VL: ``VideoInfo.clip_start``).
Every invalid request raises :class:`ToolError` with a message for the model.
"""

from __future__ import annotations

import math
from typing import Any

from rewards.frames import ImageFrame, box_from_original, box_to_original
from vrft.tools.types import ToolError

MIN_CROP_SIDE = 28  # pixels of the original image; one merged vision token of Qwen2/2.5-VL
MAX_ASPECT_RATIO = 200.0  # qwen-vl-utils' smart_resize rejects longer / shorter > 200
MIN_CLIP_SECONDS = 1.0


def number(value: Any, what: str) -> float:
    """A finite JSON number (bools and numeric strings are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ToolError(f"{what} must be a number, got {_show(value)}")
    try:
        result = float(value)
    except OverflowError:  # an integer with hundreds of digits
        result = math.inf
    if not math.isfinite(result):
        raise ToolError(f"{what} must be a finite number, got {_show(value)}")
    return result


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fmt(values) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def crop_region(box, frame: ImageFrame, *, min_side: int = MIN_CROP_SIDE,
                max_aspect: float = MAX_ASPECT_RATIO) -> list[int]:
    """Integer crop ``[x1, y1, x2, y2]`` in original pixels for ``box`` in ``frame``'s output frame."""
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        raise ToolError(f"bbox_2d must be a list of 4 numbers [x1, y1, x2, y2], got {_show(box)}")
    x1, y1, x2, y2 = (number(v, "each bbox_2d value") for v in box)
    if x2 <= x1 or y2 <= y1:
        raise ToolError(f"bbox_2d {_fmt((x1, y1, x2, y2))} is empty or inverted: need x1 < x2 and y1 < y2")
    w, h = frame.original_size
    ox1, oy1, ox2, oy2 = box_to_original([x1, y1, x2, y2], frame)
    cx1, cy1, cx2, cy2 = max(0.0, ox1), max(0.0, oy1), min(float(w), ox2), min(float(h), oy2)
    if cx2 <= cx1 or cy2 <= cy1:
        extent = [round(v) for v in box_from_original([0, 0, w, h], frame)]
        raise ToolError(f"bbox_2d {_fmt((x1, y1, x2, y2))} is outside the image, which spans {extent}")
    # Whole pixels covering the box (a hair of tolerance so 0.1 * 1000 stays 100, not 101).
    left, right = _axis(math.floor(cx1 + 1e-6), math.ceil(cx2 - 1e-6), w, min_side)
    top, bottom = _axis(math.floor(cy1 + 1e-6), math.ceil(cy2 - 1e-6), h, min_side)
    crop = [left, top, right, bottom]
    cw, ch = crop[2] - crop[0], crop[3] - crop[1]
    if max(cw, ch) / min(cw, ch) > max_aspect:
        raise ToolError(f"bbox_2d {_fmt((x1, y1, x2, y2))} is too thin: aspect ratio "
                        f"{max(cw, ch) / min(cw, ch):.0f} over {max_aspect:g}")
    return crop


def _axis(lo: int, hi: int, size: int, min_side: int) -> tuple[int, int]:
    """Grow [lo, hi) to at least ``min_side`` (or the whole axis) around its centre, inside [0, size]."""
    lo, hi = max(0, lo), min(size, hi)
    need = min(min_side, size)
    if hi - lo >= need:
        return lo, hi
    start = round((lo + hi) / 2 - need / 2)
    start = min(max(0, start), size - need)
    return start, start + need


def clip_region(start, end, *, bounds: tuple[float, float], clip_start: float = 0.0,
                min_seconds: float = MIN_CLIP_SECONDS) -> tuple[float, float]:
    """Seconds ``(s, e)`` of the original video for a clip given in the model's time frame.

    ``bounds`` is the part of the video the model was shown, in original seconds; ``clip_start``
    is what the model's times are relative to. The clip is clamped to ``bounds`` and grown to
    ``min_seconds`` (or all of ``bounds``) around its centre."""
    s, e = number(start, "start"), number(end, "end")
    if e <= s:
        raise ToolError(f"the clip {s:g}-{e:g} s is empty or inverted: need start < end")
    lo, hi = bounds
    os_, oe = max(lo, s + clip_start), min(hi, e + clip_start)
    if oe <= os_:
        raise ToolError(f"the clip {s:g}-{e:g} s is outside the video, which spans "
                        f"{lo - clip_start:.2f}-{hi - clip_start:.2f} s")
    need = min(min_seconds, hi - lo)
    if oe - os_ < need:
        mid = (os_ + oe) / 2
        os_ = min(max(lo, mid - need / 2), hi - need)
        oe = os_ + need
    return os_, oe
