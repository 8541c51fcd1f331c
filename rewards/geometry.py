"""Plain-float geometry on boxes (x1, y1, x2, y2), points (x, y) and time segments (start, end).

Boxes are in one frame (rewards use original pixels, after :mod:`rewards.frames`); x grows right,
y grows down, and a box's area is (x2 - x1) * (y2 - y1) with no +1 pixel convention.
"""

from __future__ import annotations

import math
from typing import Sequence

Box = Sequence[float]


def sort_box(box: Box) -> list[float]:
    """Corners in order (x1 <= x2, y1 <= y2): a box given with swapped corners is the same box."""
    x1, y1, x2, y2 = box
    if x1 > x2:
        x1, x2 = x2, x1
    if y1 > y2:
        y1, y2 = y2, y1
    return [x1, y1, x2, y2]


def xywh_to_xyxy(box: Box) -> list[float]:
    """(x, y, width, height) -> (x1, y1, x2, y2)."""
    x, y, w, h = box
    return [x, y, x + w, y + h]


def clip_box(box: Box, width: float, height: float) -> list[float]:
    """Clip a sorted box to the image [0, width] x [0, height] (it may become empty)."""
    x1, y1, x2, y2 = box
    return [min(max(x1, 0.0), width), min(max(y1, 0.0), height),
            min(max(x2, 0.0), width), min(max(y2, 0.0), height)]


def box_area(box: Box) -> float:
    """Area of a sorted box (0 for a degenerate one)."""
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two sorted boxes; 0 when the union is empty."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    inter = iw * ih if iw > 0 and ih > 0 else 0.0
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0


def box_center(box: Box) -> list[float]:
    return [(box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0]


def point_in_box(point: Sequence[float], box: Box) -> bool:
    """Whether the point lies in the sorted box, borders included."""
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def point_box_distance(point: Sequence[float], box: Box) -> float:
    """Euclidean distance from a point to the nearest point of a sorted box (0 inside)."""
    dx = max(box[0] - point[0], 0.0, point[0] - box[2])
    dy = max(box[1] - point[1], 0.0, point[1] - box[3])
    return math.hypot(dx, dy)


def clip_segment(segment: Sequence[float], low: float, high: float) -> list[float]:
    """Clip (start, end) to [low, high]."""
    return [min(max(segment[0], low), high), min(max(segment[1], low), high)]


def segment_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Temporal IoU of two (start, end) segments with start <= end; 0 when the union is empty."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    inter = inter if inter > 0 else 0.0
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0
