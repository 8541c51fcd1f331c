"""Colour naming: one shape on a plain background; the demo task a tiny model can learn quickly.

Native jsonl, `color/{split}.jsonl`, one `Sample.to_dict()` per line: task "vqa", prompt
"What colour is the shape? Answer with one word: red, green, blue or yellow.", solution
`{"answer": "red"}`, images `["images/<split>_<i>.png"]` (112x112), meta
`{"choices": [...], "shape": ..., "box": [x1, y1, x2, y2], "width", "height"}`.

Difficulty knobs (d in [0, 1]):
- number of colours to choose from: 2 at d=0, 4 at d=0.5 (red, green, blue, yellow), 6 at d=1;
- shape size: 35-70% of the side at d=0, 20-50% at d=1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vrft.data.synth.common import (
    lerp, lerp_int, native_row, pick, sample_name, sample_rng, save_png, write_jsonl,
)
from vrft.data.synth.shapes import COLOR_NAMES, COLORS, SHAPES, paint, plain_background

NAME = "color"
SIDE = 112


def n_colors(d: float) -> int:
    return lerp_int(2, 6, d)


def question(choices: list[str]) -> str:
    listed = ", ".join(choices[:-1]) + " or " + choices[-1]
    return f"What colour is the shape? Answer with one word: {listed}."


def make_sample(rng: np.random.Generator, d: float) -> tuple[np.ndarray, dict]:
    choices = list(COLOR_NAMES[: n_colors(d)])
    color, shape = pick(rng, choices), pick(rng, SHAPES)
    size = int(rng.uniform(lerp(0.35, 0.2, d), lerp(0.7, 0.5, d)) * SIDE)
    arr = plain_background(rng, SIDE, SIDE)
    x = int(rng.integers(1, SIDE - size))
    y = int(rng.integers(1, SIDE - size))
    box = paint(arr, shape, size, x, y, COLORS[color])
    return arr, {"answer": color, "choices": choices, "shape": shape, "box": box}


def write_split(task_dir: Path, split: str, n: int, seed: int, d: float) -> Path:
    rows = []
    for i in range(n):
        arr, rec = make_sample(sample_rng(seed, NAME, split, i), d)
        rel = "images/" + sample_name(split, i, "png")
        save_png(arr, task_dir / rel)
        rows.append(native_row(
            id=f"{NAME}-{split}-{i:05d}", dataset=NAME, task="vqa", prompt=question(rec["choices"]),
            images=[rel], solution={"answer": rec["answer"]},
            meta={"choices": rec["choices"], "shape": rec["shape"], "box": rec["box"],
                  "width": SIDE, "height": SIDE},
        ))
    return write_jsonl(task_dir / f"{split}.jsonl", rows)
