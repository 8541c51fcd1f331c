"""Write small H.264 mp4 files from RGB frames: PyAV in-process, else imageio-ffmpeg's binary.

Both paths use libx264 with one thread, no B-frames and yuv420p, so every frame is stored (decord
reports exactly `len(frames)` frames at `fps`) and the same frames give the same bytes.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

_X264 = {"crf": "18", "preset": "ultrafast", "tune": "zerolatency", "bf": "0", "g": "30"}


def write_mp4(path: Path, frames: np.ndarray, fps: int) -> None:
    """`frames`: (T, H, W, 3) uint8 with even H and W."""
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"H.264 with yuv420p needs even frame sizes, got {w}x{h}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if _pyav_has_x264():
        _write_pyav(path, frames, fps)
    else:
        _write_imageio(path, frames, fps)


@functools.lru_cache(maxsize=1)
def _pyav_has_x264() -> bool:
    try:
        import av

        av.codec.Codec("libx264", "w")
    except Exception:  # noqa: BLE001 - PyAV missing or built without the encoder
        return False
    return True


def _write_pyav(path: Path, frames: np.ndarray, fps: int) -> None:
    import av

    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1
        stream.options = dict(_X264)
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _write_imageio(path: Path, frames: np.ndarray, fps: int) -> None:
    t, h, w, _ = frames.shape
    import imageio_ffmpeg  # only to write synthetic videos: image-only runs (scripts/gpu_check.py) need no ffmpeg

    writer = imageio_ffmpeg.write_frames(
        str(path), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p", quality=None,
        macro_block_size=1, ffmpeg_log_level="error",
        output_params=["-crf", "18", "-preset", "ultrafast", "-tune", "zerolatency", "-bf", "0",
                       "-g", "30", "-threads", "1", "-map_metadata", "-1", "-fflags", "+bitexact"],
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
