"""Referring-expression grounding: find "the small red triangle" among other shapes.

Written as a RefCOCO-style JSON list, `grounding/{split}.json`:
`{"id", "image": "images/<split>_<i>.png", "problem", "solution": [x1, y1, x2, y2], "width", "height"}`.
The box is the exact tight box of the target's painted pixels (x2/y2 exclusive). Shapes never overlap,
and the expression is the shortest of (shape), (colour shape), (size shape), (size colour shape) that
picks out only the target, so it is unique by construction.

Difficulty knobs (d in [0, 1]):
- image side: 224 px at d=0, up to 448 px at d=1;
- distractors: 1-3 at d=0, 2-9 at d=1;
- confusable distractors (differing from the target in one attribute): 20% -> 80%, which forces
  longer expressions;
- shape size: shrinks to 70% at d=1; background texture and noise grow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vrft.data.synth.common import lerp, lerp_int, pick, sample_name, sample_rng, save_png, write_json
from vrft.data.synth.shapes import COLOR_NAMES, COLORS, SHAPES, background, paint, place_squares

NAME = "grounding"
SIZE_WORDS = ("small", "large")


def _attrs(rng: np.random.Generator, target: tuple, confusable: bool) -> tuple:
    if not confusable:
        return (pick(rng, SIZE_WORDS), pick(rng, COLOR_NAMES), pick(rng, SHAPES))
    attrs = list(target)
    k = int(rng.integers(3))
    pools = (SIZE_WORDS, COLOR_NAMES, SHAPES)
    attrs[k] = pick(rng, [v for v in pools[k] if v != target[k]])
    return tuple(attrs)


def describe(target: tuple, others: list[tuple]) -> str:
    """The shortest unique noun phrase for `target` = (size, colour, shape) among `others`."""
    size, color, shape = target
    for keys in ((2,), (1, 2), (0, 2), (0, 1, 2)):
        if not any(all(o[k] == target[k] for k in keys) for o in others):
            return "the " + " ".join(target[k] for k in keys)
    raise AssertionError("target duplicates a distractor")  # excluded when sampling


def make_sample(rng: np.random.Generator, d: float) -> tuple[np.ndarray, dict]:
    """One image and its record: `problem`, `box` and every object (attributes + box)."""
    w = int(rng.integers(224, lerp_int(224, 448, d) + 1))
    h = int(rng.integers(224, lerp_int(224, 448, d) + 1))
    side = min(w, h)
    shrink = lerp(1.0, 0.7, d)
    target = (pick(rng, SIZE_WORDS), pick(rng, COLOR_NAMES), pick(rng, SHAPES))
    n_dis = int(rng.integers(lerp_int(1, 2, d), lerp_int(3, 9, d) + 1))
    p_conf = lerp(0.2, 0.8, d)
    attrs = [target]
    while len(attrs) < n_dis + 1:
        a = _attrs(rng, target, bool(rng.random() < p_conf))
        if a != target:
            attrs.append(a)

    def px(size_word: str) -> int:
        lo, hi = (0.07, 0.11) if size_word == "small" else (0.18, 0.25)
        return max(10, int(rng.uniform(lo, hi) * side * shrink))

    sizes = [px(a[0]) for a in attrs]
    arr = background(rng, w, h, d)
    objects = []
    for a, s, pos in zip(attrs, sizes, place_squares(rng, w, h, sizes)):
        if pos is None:
            continue
        box = paint(arr, a[2], s, pos[0], pos[1], COLORS[a[1]])
        objects.append({"size": a[0], "color": a[1], "shape": a[2], "box": box})
    # The target is placed first, and one square of <= 25% of the side always fits an empty image.
    assert objects and objects[0]["size"] == target[0] and (objects[0]["color"], objects[0]["shape"]) == target[1:]
    others = [(o["size"], o["color"], o["shape"]) for o in objects[1:]]
    problem = describe(target, others)
    return arr, {"problem": problem, "box": objects[0]["box"], "objects": objects, "width": w, "height": h}


def write_split(task_dir: Path, split: str, n: int, seed: int, d: float) -> Path:
    rows = []
    for i in range(n):
        arr, rec = make_sample(sample_rng(seed, NAME, split, i), d)
        rel = "images/" + sample_name(split, i, "png")
        save_png(arr, task_dir / rel)
        rows.append({
            "id": f"{NAME}-{split}-{i:05d}",
            "image": rel,
            "problem": rec["problem"],
            "solution": rec["box"],
            "width": rec["width"],
            "height": rec["height"],
        })
    return write_json(task_dir / f"{split}.json", rows)
