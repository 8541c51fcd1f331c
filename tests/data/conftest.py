"""Fixtures for the data tests: the annotation files in tests/data/fixtures (real benchmark formats)
copied to a temporary folder, with the media they reference written next to them (some left out on
purpose, to exercise the missing-file checks)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.data.official import ROOT_VARS, materialize_official, write_mp4, write_png

FIXTURES = Path(__file__).parent / "fixtures"

IMAGES = {
    "images/a.png": (100, 80), "images/b.png": (60, 50),                     # refcoco
    "coco/img1.png": (64, 48), "coco/img2.png": (64, 48), "coco/img3.png": (64, 48),
    "coco/img5.png": (64, 48), "coco/img6.png": (64, 48),
    "chartqa/png/c1.png": (40, 30), "chartqa/png/c2.png": (40, 30),
    "screenspot/images/mobile_0.png": (80, 160), "screenspot/mobile_1.png": (80, 160),
    "screenspot_pro/pycharm_macos/shot_0.png": (320, 200),
    "images/n0.png": (32, 32),                                                # native
}
VIDEOS = ["charades/AO8RW.mp4", "charades/Y6R7T.mp4", "anet/QOlSCBRmfWY.mp4", "videos/v.mp4"]
EMPTY = ["anet/v_ehGHCYKzyZ8.mp4"]


@pytest.fixture
def make_mp4():
    return write_mp4


@pytest.fixture
def make_png():
    return write_png


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(FIXTURES, root)
    for rel, size in IMAGES.items():
        write_png(root / rel, size)
    for rel in VIDEOS:  # not probed (durations come from the json): any non-empty bytes will do
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"\x00\x00\x00\x18ftypmp42")
    for rel in EMPTY:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"")
    return root


@pytest.fixture(scope="session")
def official_tree(tmp_path_factory) -> Path:
    """The official-layout fixtures with their media, written once per session (read-only use)."""
    return materialize_official(tmp_path_factory.mktemp("official") / "data")


@pytest.fixture
def official_env(official_tree: Path, monkeypatch) -> Path:
    """The dataset roots the shipped configs read (REFCOCO_ROOT, ...) pointed at the fixture tree."""
    for var, rel in ROOT_VARS.items():
        monkeypatch.setenv(var, str(official_tree / rel))
    return official_tree
