"""Shared helpers of the video-grounding loaders: finding a video file, its duration, and
validating a (start, end) segment against it."""

from __future__ import annotations

import math
import os
from typing import Any

import decord

from vrft.data.loaders.common import RowError, read_json


def probe_duration(path: str) -> float:
    """Duration in seconds of a video file, read with decord (frames / average fps)."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise RowError(f"media file not found: {path}" if not os.path.exists(path)
                       else f"media file is empty: {path}")
    try:
        vr = decord.VideoReader(path, num_threads=1)
        fps = vr.get_avg_fps()
        n = len(vr)
    except Exception as e:  # decord raises its own error types on unreadable files
        raise RowError(f"cannot read video {path} to find its duration ({e})") from None
    if not fps or fps <= 0 or n <= 0:
        raise RowError(f"cannot find the duration of {path} (fps={fps}, frames={n})")
    return n / fps


class DurationLookup:
    """Durations from an optional ``{video_id: seconds}`` json, else probed from the file (cached)."""

    def __init__(self, durations_file: str | None):
        self.table: dict[str, Any] = {}
        if durations_file:
            table = read_json(durations_file)
            if not isinstance(table, dict):
                raise ValueError(f"{durations_file}: expected {{video_id: seconds}}, got {type(table).__name__}")
            self.table = table
        self._probed: dict[str, float] = {}

    def __call__(self, video_id: str, path: str) -> float:
        if video_id in self.table:
            d = self.table[video_id]
            if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d) or d <= 0:
                raise RowError(f"duration of {video_id!r} must be a positive number, got {d!r}")
            return float(d)
        if path not in self._probed:
            self._probed[path] = probe_duration(path)
        return self._probed[path]


def find_video(media_root: str, video_id: str, video_dir: str, exts: list[str]) -> str:
    """The first existing ``<media_root>/<video_dir>/<id><ext>`` (also trying without ActivityNet's
    ``v_`` prefix); when none exists, the first candidate (the media check then reports it)."""
    folder = os.path.join(media_root, video_dir) if video_dir else media_root
    ids = [video_id] + ([video_id[2:]] if video_id.startswith("v_") else [])
    candidates = [os.path.abspath(os.path.join(folder, i + e)) for i in ids for e in exts]
    return next((c for c in candidates if os.path.exists(c)), candidates[0])


CLIPPED = "segment end clipped to the video's end"
"""The LoadResult note counting segments that ended past their video (within the tolerance)."""


def count_clipped(result, samples_meta_key: str = "clipped_end"):
    """Count (in ``result.notes``) the samples whose segment was clipped; returns ``result``."""
    result.note(CLIPPED, sum(1 for s in result.samples if samples_meta_key in s.meta))
    return result


def check_segment(start: Any, end: Any, duration: float, tolerance: float) -> list[float]:
    """A valid [start, end] in seconds: numbers, 0 <= start < end, start inside the video and end at
    most ``tolerance`` seconds past its end (then clipped to the duration, as is common practice for
    Charades-STA, whose annotations sometimes end after the video); anything else raises RowError."""
    for v in (start, end):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise RowError(f"segment bounds must be numbers, got [{start!r}, {end!r}]")
    s, e = float(start), float(end)
    if s < 0 or e <= s:
        raise RowError(f"segment [{s:g}, {e:g}] needs 0 <= start < end")
    if s >= duration or e > duration + tolerance:
        raise RowError(f"segment [{s:g}, {e:g}] goes beyond the video's {duration:.2f} s "
                       f"(more than the tolerance of {tolerance:g} s)")
    return [s, min(e, duration)]
