"""Built-in tools: ``zoom_in`` (a region of an image, from the full-resolution original) and
``zoom_in_video`` (a clip of the video, re-sampled at a higher frame rate).

Both take coordinates in the model's own frames (see :mod:`vrft.tools.geometry`) and return the
new media resized within the dataset's pixel budget, as the prompt's media were.
"""

from __future__ import annotations

from dataclasses import replace

from rewards.frames import box_from_original
from vrft.policy.media import load_video, resize_image
from vrft.tools.geometry import clip_region, crop_region
from vrft.tools.registry import register_tool
from vrft.tools.types import Observation, ToolContext, ToolError

VIDEO_FPS_FACTOR = 2.0  # a zoomed clip is sampled at this multiple of the prompt's frame rate


def _check_keys(name: str, arguments: dict, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
    missing = [k for k in required if k not in arguments]
    if missing:
        raise ToolError(f"missing argument {missing[0]!r}; {name} takes {_keys(required, optional)}")
    unknown = sorted(str(k) for k in arguments if k not in required + optional)
    if unknown:
        raise ToolError(f"unknown argument {unknown[0]!r}; {name} takes {_keys(required, optional)}")


def _keys(required, optional) -> str:
    return ", ".join(list(required) + [f"{k} (optional)" for k in optional])


@register_tool(
    "zoom_in",
    description="Zoom in on a region of an image: returns that region at a higher resolution. "
                "bbox_2d is [x1, y1, x2, y2] in {frame}, the same coordinates as your answers.",
    parameters={"type": "object",
                "properties": {"bbox_2d": {"type": "array", "items": {"type": "number"}, "minItems": 4,
                                           "maxItems": 4, "description": "[x1, y1, x2, y2] of the region"},
                               "image_index": {"type": "integer",
                                               "description": "which image (0-based) when there are several"}},
                "required": ["bbox_2d"]},
)
def zoom_in(arguments: dict, ctx: ToolContext) -> Observation:
    """Crop the original image at the model-frame box, then resize it within the pixel budget.

    Trace: ``{"image_index", "crop_box": [x1, y1, x2, y2] original pixels, "resized_size": [w, h]}``."""
    _check_keys("zoom_in", arguments, ("bbox_2d",), ("image_index",))
    if not ctx.image_frames:
        raise ToolError("this task has no image")
    index = arguments.get("image_index", 0)
    if isinstance(index, bool) or not isinstance(index, int):
        raise ToolError(f"image_index must be an integer, got {index!r}"[:160])
    if not 0 <= index < len(ctx.image_frames):
        raise ToolError(f"image_index {index} is out of range; there "
                        f"{'is 1 image' if len(ctx.image_frames) == 1 else f'are {len(ctx.image_frames)} images'}"
                        f" (index 0 to {len(ctx.image_frames) - 1})")
    frame = ctx.image_frames[index]
    crop = crop_region(arguments["bbox_2d"], frame)
    original = ctx.original_image(index)
    if original.size != tuple(frame.original_size):  # the file changed since the prompt was encoded
        raise ToolError(f"image {index} is not available")
    loaded = resize_image(original.crop(tuple(crop)), ctx.settings, ctx.family.pixel_factor)
    shown = [round(v) for v in box_from_original(crop, frame)]
    which = f" of image {index}" if len(ctx.image_frames) > 1 else ""
    return Observation(
        text=f"Zoomed in on region {shown}{which}.", images=[loaded],
        result={"image_index": index, "crop_box": crop, "resized_size": list(loaded.resized_size)},
    )


@register_tool(
    "zoom_in_video",
    description="Look at a part of the video more closely: returns the frames between start and end "
                "(seconds, as in your answers) sampled at a higher frame rate.",
    parameters={"type": "object",
                "properties": {"start": {"type": "number", "description": "start of the clip in seconds"},
                               "end": {"type": "number", "description": "end of the clip in seconds"}},
                "required": ["start", "end"]},
)
def zoom_in_video(arguments: dict, ctx: ToolContext) -> Observation:
    """Re-sample the clip at ``VIDEO_FPS_FACTOR`` x the prompt's frame rate (within ``max_frames``)
    and the video pixel budget.

    Trace: ``{"clip": [s, e] original seconds, "timestamps": [...] original seconds, "fps": sampled}``."""
    _check_keys("zoom_in_video", arguments, ("start", "end"))
    if ctx.video is None or ctx.video_info is None:
        raise ToolError("this task has no video")
    info, ref = ctx.video_info, ctx.video
    lo = float(ref.start or 0.0)
    hi = float(ref.end) if ref.end is not None else float(info.duration)
    min_seconds = max(1.0, 2.5 / ctx.video_fps) if ctx.video_fps else 1.0
    start, end = clip_region(arguments["start"], arguments["end"], bounds=(lo, hi), clip_start=info.clip_start,
                             min_seconds=min_seconds)
    shown_fps = len(info.timestamps) / (hi - lo) if info.timestamps and hi > lo else ctx.settings.fps
    settings = replace(ctx.settings, fps=VIDEO_FPS_FACTOR * shown_fps, nframes=None)
    clip = load_video(ref.path, settings, ctx.family.pixel_factor, start=start, end=min(end, info.duration),
                      sample_id=ctx.sample_id)
    s, e = start - info.clip_start, end - info.clip_start
    return Observation(
        text=f"Frames of {s:.2f}-{e:.2f} s ({len(clip.timestamps)} frames, {clip.sample_fps:.2g} per second).",
        video=clip,
        result={"clip": [start, end], "timestamps": list(clip.timestamps), "fps": clip.sample_fps},
    )
