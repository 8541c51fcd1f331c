"""Shared plumbing for the synthetic task generators: seeds, difficulty, fonts and file writers.

Every sample draws from its own `numpy.random.Generator` seeded by `(seed, task, split, index)`,
so a sample does not depend on how many samples came before it, train and test never share a
stream, and the same seed gives byte-identical annotation files.
"""

from __future__ import annotations

import functools
import json
import zlib
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from PIL import Image, ImageFont

from vrft.data.sample import Sample

SPLITS = ("train", "test")
_SPLIT_IDS = {"train": 1, "test": 2}

DIFFICULTY_LEVELS = {"easy": 0.0, "medium": 0.5, "hard": 1.0}


def parse_difficulty(value: str | float | int | None) -> float:
    """`easy` / `medium` / `hard` or a number in [0, 1] -> a float in [0, 1] (None -> medium)."""
    if value is None:
        return DIFFICULTY_LEVELS["medium"]
    if isinstance(value, str):
        key = value.strip().lower()
        if key in DIFFICULTY_LEVELS:
            return DIFFICULTY_LEVELS[key]
        try:
            value = float(key)
        except ValueError:
            raise ValueError(
                f"difficulty {value!r} is not one of {sorted(DIFFICULTY_LEVELS)} nor a number in [0, 1]"
            ) from None
    d = float(value)
    if not 0.0 <= d <= 1.0:
        raise ValueError(f"difficulty {d} is outside [0, 1]; use easy, medium, hard or a number in [0, 1]")
    return d


def sample_rng(seed: int, task: str, split: str, index: int) -> np.random.Generator:
    """The random stream of one sample: independent of every other (task, split, index)."""
    if split not in _SPLIT_IDS:
        raise ValueError(f"split {split!r} is not one of {SPLITS}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    entropy = [int(seed), zlib.crc32(task.encode()), _SPLIT_IDS[split], int(index)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def lerp(a: float, b: float, t: float) -> float:
    """`a` at t=0, `b` at t=1: every difficulty knob is one of these."""
    return a + (b - a) * t


def lerp_int(a: int, b: int, t: float) -> int:
    return int(round(lerp(a, b, t)))


def pick(rng: np.random.Generator, items: list | tuple) -> Any:
    return items[int(rng.integers(len(items)))]


def pick_k(rng: np.random.Generator, items: list | tuple, k: int) -> list:
    """`k` distinct items in a random order."""
    idx = rng.permutation(len(items))[:k]
    return [items[int(i)] for i in idx]


@functools.lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled default font at a pixel size (same glyphs on every machine)."""
    return ImageFont.load_default(size=size)


def format_number(value: float) -> str:
    """A number as a reward expects it: `12`, `3.5`, `-0.2` (no trailing zeros, no exponent)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def sample_name(split: str, index: int, ext: str) -> str:
    return f"{split}_{index:05d}.{ext}"


def save_png(img: Image.Image | np.ndarray, path: Path, compress_level: int = 1) -> None:
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG", compress_level=compress_level)


def _dumps(obj: Any, depth: int = 0) -> str:
    """JSON with one list item per line (rows stay readable and diffable), compact inside items."""
    if depth < 2 and isinstance(obj, list) and obj:
        return "[\n" + ",\n".join(_dumps(x, depth + 1) for x in obj) + "\n]"
    if depth == 0 and isinstance(obj, dict):
        items = (json.dumps(k) + ": " + _dumps(v, depth + 1) for k, v in obj.items())
        return "{\n" + ",\n".join(items) + "\n}"
    return json.dumps(obj, ensure_ascii=False)


def write_json(path: Path, obj: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_dumps(obj) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def native_row(
    *,
    id: str,
    dataset: str,
    task: str,
    prompt: str,
    images: list[str],
    solution: dict[str, Any],
    meta: dict[str, Any],
) -> dict[str, Any]:
    """One native jsonl row, exactly `Sample(...).to_dict()` (checked against the schema)."""
    return Sample(
        id=id, dataset=dataset, task=task, prompt=prompt, solution=solution,
        images=images, video=None, meta=meta,
    ).to_dict()
