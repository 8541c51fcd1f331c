"""The official-layout fixtures (tests/data/fixtures/official) and the blank media they reference:
annotation files copied as the public releases ship them, images and videos written at test time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

OFFICIAL = Path(__file__).parent / "fixtures" / "official"
ROOT_VARS = {"REFCOCO_ROOT": "refcoco", "COCO_ROOT": "coco", "CHARTQA_ROOT": "chartqa/ChartQA Dataset",
             "SCREENSPOT_ROOT": "screenspot", "CHARADES_ROOT": "charades"}
"""The environment variables the shipped configs read, and their folder in the fixture tree."""


def write_png(path: Path, size: tuple[int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 30, 30)).save(path)


def write_mp4(path: Path, n_frames: int, fps: int, size: int = 32) -> None:
    """A real H.264 mp4 (PyAV), so decord can probe its duration: n_frames / fps seconds."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"bf": "0"}
        for t in range(n_frames):
            frame = av.VideoFrame.from_ndarray(np.full((size, size, 3), t * 20 % 255, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def materialize_official(root: Path) -> Path:
    """Copy the official-layout fixtures to ``root`` and write the blank media they reference
    (sizes and durations from media.json)."""
    shutil.copytree(OFFICIAL, root)
    media = json.loads((root / "media.json").read_text())
    for rel, size in media["images"].items():
        write_png(root / rel, tuple(size))  # PIL picks the format from the extension (.png / .jpg)
    for rel, seconds in media["videos"].items():
        write_mp4(root / rel, n_frames=int(seconds * 2), fps=2)
    return root
