"""Coordinate frames: the one place that maps model-output coordinates to the original media frame.

Model families emit coordinates in different frames:
- ``NORM_1000``: integers in [0, 1000] relative to the image the model saw (Qwen2-VL, Qwen3-VL).
- ``RESIZED_PIXELS``: absolute pixels of the *resized* image the processor fed the model (Qwen2.5-VL).
- ``ORIGINAL_PIXELS``: already in original pixels (used by sources and by tests).

Solutions are stored in original pixels. Rewards and evaluation compare in that frame, so every
prediction goes through :func:`box_to_original` / :func:`point_to_original` here, never by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

NORM_1000 = "norm_1000"
RESIZED_PIXELS = "resized_pixels"
ORIGINAL_PIXELS = "original_pixels"
FRAMES = (NORM_1000, RESIZED_PIXELS, ORIGINAL_PIXELS)


@dataclass(frozen=True)
class ImageFrame:
    """What the model saw of one image: sizes are (width, height) in pixels."""

    original_size: tuple[int, int]
    resized_size: tuple[int, int]
    output_frame: str = RESIZED_PIXELS

    def __post_init__(self) -> None:
        if self.output_frame not in FRAMES:
            raise ValueError(f"unknown output frame {self.output_frame!r}; expected one of {FRAMES}")

    def _scales(self) -> tuple[float, float]:
        """Factors that take an x / y in the output frame to original pixels."""
        ow, oh = self.original_size
        if self.output_frame == NORM_1000:
            return ow / 1000.0, oh / 1000.0
        if self.output_frame == RESIZED_PIXELS:
            rw, rh = self.resized_size
            return ow / rw, oh / rh
        return 1.0, 1.0


def point_to_original(point, frame: ImageFrame) -> list[float]:
    sx, sy = frame._scales()
    return [float(point[0]) * sx, float(point[1]) * sy]


def point_from_original(point, frame: ImageFrame) -> list[float]:
    sx, sy = frame._scales()
    return [float(point[0]) / sx, float(point[1]) / sy]


def box_to_original(box, frame: ImageFrame) -> list[float]:
    """(x1, y1, x2, y2) in the model's output frame -> original pixels (corners kept as given)."""
    sx, sy = frame._scales()
    return [float(box[0]) * sx, float(box[1]) * sy, float(box[2]) * sx, float(box[3]) * sy]


def box_from_original(box, frame: ImageFrame) -> list[float]:
    """Original pixels -> the model's output frame (for prompts, ground-truth completions and tools)."""
    sx, sy = frame._scales()
    return [float(box[0]) / sx, float(box[1]) / sy, float(box[2]) / sx, float(box[3]) / sy]


def segment_to_original(segment, clip_start: float = 0.0) -> list[float]:
    """Seconds the model gave, relative to the clip it saw, -> seconds of the original video."""
    return [float(segment[0]) + clip_start, float(segment[1]) + clip_start]


def segment_from_original(segment, clip_start: float = 0.0) -> list[float]:
    return [float(segment[0]) - clip_start, float(segment[1]) - clip_start]
