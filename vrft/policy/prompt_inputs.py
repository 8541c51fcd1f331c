"""Turn chat messages plus loaded media into the model inputs of one prompt.

A prompt is encoded once; its G rollouts and the log-prob pass reuse these tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from rewards.context import VideoInfo
from rewards.frames import ImageFrame
from vrft.policy.families import Family
from vrft.policy.media import LoadedImage, LoadedVideo


@dataclass
class PromptInputs:
    """Model inputs of one prompt. Tensors have no batch dimension except the vision ones,
    which are concatenations over this prompt's images (in order)."""

    input_ids: torch.Tensor  # (L,)
    mm_token_type_ids: torch.Tensor  # (L,)
    text: str
    pixel_values: torch.Tensor | None = None  # (sum patches, D)
    image_grid_thw: torch.Tensor | None = None  # (n_images, 3)
    pixel_values_videos: torch.Tensor | None = None
    video_grid_thw: torch.Tensor | None = None  # (n_videos, 3)
    second_per_grid_ts: torch.Tensor | None = None  # (n_videos,), Qwen2.5-VL time-aware rope
    image_frames: list[ImageFrame] = field(default_factory=list)
    video_info: VideoInfo | None = None

    @property
    def length(self) -> int:
        return int(self.input_ids.shape[0])


def encode_prompt(processor, family: Family, messages: list[dict], images: list[LoadedImage],
                  video: LoadedVideo | None = None, *, add_generation_prompt: bool = True,
                  continue_text: str = "") -> PromptInputs:
    """Render `messages` with the processor's chat template and encode text and media together.

    `continue_text` is appended after the rendered template (the multi-turn tool loop uses it to
    continue an assistant turn)."""
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
    text += continue_text
    kwargs: dict = {"text": [text], "return_tensors": "pt"}
    if images:
        kwargs["images"] = [im.image for im in images]
        kwargs["images_kwargs"] = {"do_resize": False}
    if video is not None:
        kwargs["videos"] = [video.frames]
        # Frames are already sampled and resized; the metadata gives the processor the sampled fps
        # (Qwen2.5-VL's second_per_grid_ts) and the frame times (Qwen3-VL's timestamp text).
        kwargs["videos_kwargs"] = {"do_resize": False, "do_sample_frames": False,
                                   "video_metadata": [dict(video.meta)]}
    enc = processor(**kwargs)
    frames = [ImageFrame(im.original_size, im.resized_size, family.output_frame) for im in images]
    info = None
    if video is not None:
        # Qwen3-VL is shown absolute frame times, so its answers are already in original seconds;
        # Qwen2/2.5-VL only see relative temporal positions, so their times start at the clip.
        clip_start = 0.0 if family.name == "qwen3_vl" else video.clip_start
        info = VideoInfo(duration=video.duration, timestamps=list(video.timestamps), clip_start=clip_start)
    return PromptInputs(
        input_ids=enc["input_ids"][0],
        mm_token_type_ids=enc["mm_token_type_ids"][0] if "mm_token_type_ids" in enc
        else torch.zeros_like(enc["input_ids"][0]),
        text=text,
        pixel_values=enc.get("pixel_values"),
        image_grid_thw=enc.get("image_grid_thw"),
        pixel_values_videos=enc.get("pixel_values_videos"),
        video_grid_thw=enc.get("video_grid_thw"),
        second_per_grid_ts=enc.get("second_per_grid_ts"),
        image_frames=frames,
        video_info=info,
    )
