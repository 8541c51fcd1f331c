"""Decode, validate and resize images and videos the way Qwen-VL processors expect.

Resizing follows qwen-vl-utils (`smart_resize`: sides are multiples of patch*merge, pixel count
within [min_pixels, max_pixels]); videos are decoded with decord through qwen-vl-utils. Every
failure raises :class:`MediaError` naming the sample and the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import torch
from PIL import Image

from vrft.policy.errors import MediaError

os.environ.setdefault("FORCE_QWENVL_VIDEO_READER", "decord")
# qwen-vl-utils reads FORCE_QWENVL_VIDEO_READER when it is imported, so it comes after the default.
import decord  # noqa: E402
from qwen_vl_utils.vision_process import fetch_video, smart_resize  # noqa: E402

# PIL's own default bound; over it an image is treated as a decompression bomb.
DEFAULT_MAX_IMAGE_PIXELS = 89_478_485


@dataclass(frozen=True)
class VisionSettings:
    """Per-dataset vision budget. `fps` and `nframes` are exclusive (nframes wins when set)."""

    min_pixels: int = 28 * 28 * 4
    max_pixels: int = 28 * 28 * 256
    fps: float = 2.0
    nframes: int | None = None
    max_frames: int = 32
    video_min_pixels: int = 28 * 28 * 4
    video_max_pixels: int = 28 * 28 * 64
    total_pixels: int | None = None
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS


def settings_from(vision_cfg) -> VisionSettings:
    """A dataset's vision config (fields left None keep the framework defaults) as VisionSettings."""
    fields = ("min_pixels", "max_pixels", "fps", "nframes", "max_frames", "total_pixels")
    overrides = {k: getattr(vision_cfg, k) for k in fields if getattr(vision_cfg, k, None) is not None}
    return replace(VisionSettings(), **overrides)


@dataclass(frozen=True)
class VideoClip:
    """A video file and an optional clip of it, in seconds of the original video. The policy reads
    only these three attributes, so a ``vrft.data.sample.VideoRef`` is taken as it is (the policy
    does not import the data layer)."""

    path: str
    start: float | None = None
    end: float | None = None


@dataclass
class LoadedImage:
    image: Image.Image  # resized, RGB
    original_size: tuple[int, int]  # (w, h)
    resized_size: tuple[int, int]

    @property
    def nbytes(self) -> int:
        return self.resized_size[0] * self.resized_size[1] * 3


@dataclass
class LoadedVideo:
    frames: torch.Tensor  # (T, C, H, W) float, resized
    timestamps: list[float]  # seconds of the original video, one per frame
    sample_fps: float
    duration: float
    original_size: tuple[int, int]
    clip_start: float = 0.0
    meta: dict = field(default_factory=dict)

    @property
    def resized_size(self) -> tuple[int, int]:
        return int(self.frames.shape[-1]), int(self.frames.shape[-2])

    @property
    def nbytes(self) -> int:
        return self.frames.numel() * self.frames.element_size()


def open_image(source, *, sample_id: str | None = None,
               max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS) -> Image.Image:
    """Open a path or PIL image as RGB at full resolution, with the checks the rest relies on."""
    if isinstance(source, Image.Image):
        return source.convert("RGB")
    path = str(source)
    if not os.path.exists(path):
        raise MediaError("image file not found", path=path, sample_id=sample_id)
    if os.path.getsize(path) == 0:
        raise MediaError("image file is empty (0 bytes)", path=path, sample_id=sample_id)
    try:
        with Image.open(path) as im:
            w, h = im.size  # header only: check the size before decoding the pixels
            if w * h > max_image_pixels:
                raise MediaError(f"image has {w}x{h} = {w * h} pixels, over the limit of "
                                 f"{max_image_pixels} (possible decompression bomb)", path=path,
                                 sample_id=sample_id)
            im.load()
            return im.convert("RGB")
    except MediaError:
        raise
    except Exception as exc:  # PIL raises many types for corrupt files
        raise MediaError(f"cannot decode image ({type(exc).__name__}: {exc})", path=path,
                         sample_id=sample_id) from exc


def resize_image(image: Image.Image, settings: VisionSettings, factor: int) -> LoadedImage:
    w, h = image.size
    rh, rw = smart_resize(h, w, factor=factor, min_pixels=settings.min_pixels, max_pixels=settings.max_pixels)
    resized = image if (rw, rh) == (w, h) else image.resize((rw, rh), Image.BICUBIC)
    return LoadedImage(resized, (w, h), (rw, rh))


def load_image(source, settings: VisionSettings, factor: int, *, sample_id: str | None = None) -> LoadedImage:
    image = open_image(source, sample_id=sample_id, max_image_pixels=settings.max_image_pixels)
    return resize_image(image, settings, factor)


def probe_video(path: str, *, sample_id: str | None = None) -> tuple[int, float]:
    """(frame count, fps) of a video file, or a MediaError."""
    if not os.path.exists(path):
        raise MediaError("video file not found", path=path, sample_id=sample_id)
    if os.path.getsize(path) == 0:
        raise MediaError("video file is empty (0 bytes)", path=path, sample_id=sample_id)
    try:
        vr = decord.VideoReader(path, num_threads=1)
        n, fps = len(vr), float(vr.get_avg_fps())
    except Exception as exc:
        raise MediaError(f"cannot decode video ({type(exc).__name__}: {exc})", path=path,
                         sample_id=sample_id) from exc
    if n < 1 or fps <= 0:
        raise MediaError(f"video has {n} frames at {fps} fps", path=path, sample_id=sample_id)
    return n, fps


def load_video(path: str, settings: VisionSettings, factor: int, *, start: float | None = None,
               end: float | None = None, sample_id: str | None = None) -> LoadedVideo:
    """Sample frames of `path` (optionally the clip [start, end] seconds) and resize them."""
    n_frames, video_fps = probe_video(path, sample_id=sample_id)
    duration = n_frames / video_fps
    if start is not None and end is not None and end <= start:
        raise MediaError(f"clip end {end} s is not after its start {start} s", path=path, sample_id=sample_id)
    if start is not None and (start < 0 or start >= duration):
        raise MediaError(f"clip start {start} s is outside the video (duration {duration:.2f} s)",
                         path=path, sample_id=sample_id)
    if end is not None and (end <= 0 or end > duration + 1e-6):
        raise MediaError(f"clip end {end} s is outside the video (duration {duration:.2f} s)",
                         path=path, sample_id=sample_id)
    ele: dict = {"video": path, "min_pixels": settings.video_min_pixels, "max_pixels": settings.video_max_pixels}
    if settings.total_pixels:
        ele["total_pixels"] = settings.total_pixels
    if start is not None:
        ele["video_start"] = start
    if end is not None:
        ele["video_end"] = end
    if settings.nframes:
        ele["nframes"] = settings.nframes
    else:
        ele["fps"] = settings.fps
        ele["max_frames"] = settings.max_frames
        ele["min_frames"] = 2
    try:
        (frames, meta), sample_fps = fetch_video(ele, image_patch_size=factor // 2,
                                                 return_video_sample_fps=True, return_video_metadata=True)
    except Exception as exc:
        raise MediaError(f"cannot sample frames ({type(exc).__name__}: {exc})", path=path,
                         sample_id=sample_id) from exc
    timestamps = [i / video_fps for i in meta["frames_indices"]]
    h, w = decord.VideoReader(path, num_threads=1)[0].shape[:2]
    return LoadedVideo(frames=frames, timestamps=timestamps, sample_fps=float(sample_fps),
                       duration=duration, original_size=(w, h), clip_start=float(start or 0.0),
                       # total_num_frames is the clip's frame count, so that the processor's
                       # sampled fps (frames / clip frames * fps) matches qwen-vl-utils'.
                       meta={"fps": video_fps, "frames_indices": list(meta["frames_indices"]),
                             "total_num_frames": int(meta["total_num_frames"])})
