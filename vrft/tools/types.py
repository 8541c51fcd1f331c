"""What a tool receives (the sample's media as the model saw it) and what it returns (an observation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from rewards.context import VideoInfo
from rewards.frames import ImageFrame
from vrft.data.sample import VideoRef
from vrft.policy.families import Family
from vrft.policy.media import LoadedImage, LoadedVideo, VisionSettings, open_image


class ToolError(Exception):
    """A call the tool cannot serve; the message is shown to the model (so it says what to fix)."""


@dataclass
class Observation:
    """A tool's answer: text, optionally new images or one video clip (frames with timestamps).

    `result` goes into the trajectory's :class:`rewards.context.ToolCall` trace (e.g. the crop box
    in original pixels); `error` is set for a failed call."""

    text: str
    images: list[LoadedImage] = field(default_factory=list)
    video: LoadedVideo | None = None
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failure(cls, message: str) -> "Observation":
        return cls(text=f"Error: {message}", error=message)

    @property
    def media(self) -> list[LoadedImage | LoadedVideo]:
        """Images then the clip: the order of their blocks in the observation turn."""
        return list(self.images) + ([self.video] if self.video is not None else [])


@dataclass
class ToolContext:
    """One sample's media as the tools need it. Shared by the G rollouts of a prompt.

    `images` are the original sources (paths or PIL images) in prompt order and `image_frames`
    their frames as the model saw them (original and resized sizes, output frame); `video` is the
    clip reference and `video_info` what the model saw of it (timestamps, and the clip start its
    times are relative to: 0 for Qwen3-VL, whose times are absolute)."""

    images: list[Any]
    image_frames: list[ImageFrame]
    settings: VisionSettings
    family: Family
    video: VideoRef | None = None
    video_info: VideoInfo | None = None
    video_fps: float | None = None  # frame rate of the video file
    sample_id: str | None = None
    _originals: dict[int, Image.Image] = field(default_factory=dict, repr=False)

    @property
    def output_frame(self) -> str:
        return self.family.output_frame

    def original_image(self, index: int) -> Image.Image:
        """Image `index` at full resolution (opened once per context)."""
        if index not in self._originals:
            self._originals[index] = open_image(self.images[index], sample_id=self.sample_id,
                                                max_image_pixels=self.settings.max_image_pixels)
        return self._originals[index]
