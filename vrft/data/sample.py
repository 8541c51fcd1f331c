"""The common Sample schema every loader produces (see docs/architecture.md).

Solutions are always in the *original media frame*: pixels of the original image
(x1, y1, x2, y2; x right, y down; no -1 offset) and seconds of the original video.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TASKS = ("grounding", "detection", "chart", "vqa", "mcq", "gui", "temporal")


@dataclass
class VideoRef:
    """A video file and an optional clip of it, in seconds of the original video."""

    path: str
    start: float | None = None
    end: float | None = None


@dataclass
class Sample:
    """One prompt with its media and verifiable solution.

    `prompt` is the task text (question / referring expression); a dataset's prompt template
    wraps it with answer-format instructions. It may also be a list of chat messages.
    """

    id: str
    dataset: str
    task: str
    prompt: str | list[dict[str, Any]]
    solution: dict[str, Any]
    images: list[str] = field(default_factory=list)
    video: VideoRef | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Sample":
        d = dict(d)
        video = d.get("video")
        if isinstance(video, str):
            d["video"] = VideoRef(path=video)
        elif isinstance(video, dict):
            d["video"] = VideoRef(**video)
        return cls(**d)
