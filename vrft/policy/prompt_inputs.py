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


@dataclass
class MultiTurnCompletion:
    """Everything after the initial prompt of a multi-turn (tool-using) sequence: the assistant
    turns and the observation turns between them, with the media those observations added.

    `completion_logprobs` / `Policy.logprobs` accept it wherever a completion tensor is accepted:
    the sequence is scored with the prompt's media followed by this media (the order the tokens
    consume them), and only positions with `loss_mask` 1 get a log-prob (0 elsewhere)."""

    token_ids: torch.Tensor  # (T,)
    mm_token_type_ids: torch.Tensor  # (T,) 0 text, 1 image, 2 video
    loss_mask: torch.Tensor  # (T,) 1 on tokens the model generated, 0 on observation / template tokens
    pixel_values: torch.Tensor | None = None  # (sum patches, D) of the added images, in order
    image_grid_thw: torch.Tensor | None = None  # (n_added_images, 3)
    pixel_values_videos: torch.Tensor | None = None
    video_grid_thw: torch.Tensor | None = None  # (n_added_videos, 3)
    second_per_grid_ts: torch.Tensor | None = None  # (n_added_videos,)

    @property
    def length(self) -> int:
        return int(self.token_ids.shape[0])

    def __len__(self) -> int:
        return self.length

    @property
    def shape(self) -> torch.Size:
        """`token_ids.shape`, so code that measures completion tensors (`c.shape[0]`) keeps working."""
        return self.token_ids.shape

    @property
    def has_media(self) -> bool:
        return self.pixel_values is not None or self.pixel_values_videos is not None


def processor_kwargs(text: str, images: list[LoadedImage], videos: list[LoadedVideo]) -> dict:
    """Keyword arguments of one `processor(...)` call on `text` with already resized media.

    The multi-turn tool loop encodes each observation turn with this same call, so a crop or clip
    is tokenised exactly as it would be in a prompt."""
    kwargs: dict = {"text": [text], "return_tensors": "pt"}
    if images:
        kwargs["images"] = [im.image for im in images]
        kwargs["images_kwargs"] = {"do_resize": False}
    if videos:
        kwargs["videos"] = [v.frames for v in videos]
        # Frames are already sampled and resized; the metadata gives the processor the sampled fps
        # (Qwen2.5-VL's second_per_grid_ts) and the frame times (Qwen3-VL's timestamp text).
        kwargs["videos_kwargs"] = {"do_resize": False, "do_sample_frames": False,
                                   "video_metadata": [dict(v.meta) for v in videos]}
    return kwargs


def encode_prompt(processor, family: Family, messages: list[dict], images: list[LoadedImage],
                  video: LoadedVideo | None = None, *, add_generation_prompt: bool = True,
                  continue_text: str = "") -> PromptInputs:
    """Render `messages` with the processor's chat template and encode text and media together.

    `continue_text` is appended after the rendered template (the multi-turn tool loop uses it to
    continue an assistant turn)."""
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
    text += continue_text
    enc = processor(**processor_kwargs(text, images, [video] if video is not None else []))
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
