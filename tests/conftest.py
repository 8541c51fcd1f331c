"""Shared fixtures: tiny offline checkpoints (built once per session) and small media files."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("FORCE_QWENVL_VIDEO_READER", "decord")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FAMILIES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """`tiny_model_dir(family)` -> path of a tiny random checkpoint, built once per session."""
    from vrft.policy.tiny_model import build_tiny_model

    built: dict[str, str] = {}

    def get(family: str = "qwen2_5_vl") -> str:
        if family not in built:
            built[family] = str(build_tiny_model(tmp_path_factory.mktemp(f"tiny_{family}"), family))
        return built[family]

    return get


@pytest.fixture(scope="session")
def tiny_policy(tiny_model_dir):
    from vrft.policy.policy import Policy

    cache: dict[str, Policy] = {}

    def get(family: str = "qwen2_5_vl") -> Policy:
        if family not in cache:
            cache[family] = Policy.from_pretrained(tiny_model_dir(family))
        return cache[family]

    return get


def write_image(path, w=200, h=120, seed=0) -> str:
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random((h, w, 3)) * 255).astype("uint8")).save(path)
    return str(path)


def write_video(path, n_frames=40, fps=8, w=64, h=48) -> str:
    """An mp4 whose red channel ramps with the frame index (frame i has red = 6 * i)."""
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(str(path), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                         macro_block_size=16, output_params=["-loglevel", "error"])
    writer.send(None)
    for i in range(n_frames):
        frame = np.zeros((h, w, 3), np.uint8)
        frame[:, :, 0] = min(255, 6 * i)
        writer.send(frame.tobytes())
    writer.close()
    return str(path)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    write_image(d / "a.png", 200, 120, 0)
    write_image(d / "b.png", 96, 160, 1)
    write_video(d / "v.mp4")
    return d
