"""What a reward sees besides the completion text, and what it returns (the reward contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rewards.frames import ImageFrame


@dataclass
class VideoInfo:
    """The video as the model saw it: duration of the original, the sampled timestamps (seconds of
    the original video) and the clip start the model's times are relative to."""

    duration: float
    timestamps: list[float] = field(default_factory=list)
    clip_start: float = 0.0


@dataclass
class ToolCall:
    """One tool call in a trajectory: what was asked, whether it was valid, and what it produced."""

    name: str
    arguments: dict[str, Any]
    valid: bool
    error: str | None = None
    # e.g. {"image_index": 0, "crop_box": [x1, y1, x2, y2]} in original pixels, or {"clip": [s, e]}
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class RewardContext:
    """Everything a reward may use to score one completion."""

    solution: dict[str, Any]
    task: str = ""
    dataset: str = ""
    sample_id: str = ""
    images: list[ImageFrame] = field(default_factory=list)
    video: VideoInfo | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class RewardResult:
    """A score plus named components and, when the output could not be parsed, the reason."""

    score: float
    components: dict[str, float] = field(default_factory=dict)
    reason: str | None = None

    def __float__(self) -> float:
        return float(self.score)
