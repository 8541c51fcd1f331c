"""Shape detection: every shape in the image, labelled by its shape name, as COCO instances json.

`detection/{split}.json` is a COCO instances file (loads with `pycocotools.coco.COCO`):
- `images`: `{"id", "file_name": "images/<split>_<i>.png", "width", "height"}` (ids from 1; the
  file name is relative to the task folder, the media root);
- `annotations`: `{"id", "image_id", "category_id", "bbox": [x, y, w, h], "area": w*h, "iscrowd": 0}`
  (ids from 1; integer pixel boxes, exact tight boxes of the painted shapes, which never overlap);
- `categories`: `{"id", "name", "supercategory": "shape"}`, one per shape name, the same list in
  every split whether or not a shape occurs.

Difficulty knobs (d in [0, 1]):
- image side: 224 px at d=0, up to 448 px at d=1;
- objects per image: 2-4 at d=0, 3-10 at d=1;
- object size: 12-25% of the short side at d=0, 6-15% at d=1; background texture and noise grow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vrft.data.synth.common import lerp, lerp_int, pick, sample_name, sample_rng, save_png, write_json
from vrft.data.synth.shapes import COLOR_NAMES, COLORS, SHAPES, background, paint, place_squares

NAME = "detection"
CATEGORIES = [{"id": i + 1, "name": s, "supercategory": "shape"} for i, s in enumerate(SHAPES)]
_CAT_ID = {c["name"]: c["id"] for c in CATEGORIES}


def make_sample(rng: np.random.Generator, d: float) -> tuple[np.ndarray, dict]:
    """One image and its record: `objects` = [{"label", "color", "box": [x1, y1, x2, y2]}]."""
    w = int(rng.integers(224, lerp_int(224, 448, d) + 1))
    h = int(rng.integers(224, lerp_int(224, 448, d) + 1))
    side = min(w, h)
    n = int(rng.integers(lerp_int(2, 3, d), lerp_int(4, 10, d) + 1))
    lo, hi = lerp(0.12, 0.06, d), lerp(0.25, 0.15, d)
    sizes = [max(8, int(rng.uniform(lo, hi) * side)) for _ in range(n)]
    arr = background(rng, w, h, d)
    objects = []
    for s, pos in zip(sizes, place_squares(rng, w, h, sizes)):
        shape, color = pick(rng, SHAPES), pick(rng, COLOR_NAMES)
        if pos is None:
            continue
        box = paint(arr, shape, s, pos[0], pos[1], COLORS[color])
        objects.append({"label": shape, "color": color, "box": box})
    return arr, {"objects": objects, "width": w, "height": h}


def write_split(task_dir: Path, split: str, n: int, seed: int, d: float) -> Path:
    images, annotations = [], []
    for i in range(n):
        arr, rec = make_sample(sample_rng(seed, NAME, split, i), d)
        rel = "images/" + sample_name(split, i, "png")
        save_png(arr, task_dir / rel)
        image_id = i + 1
        images.append({"id": image_id, "file_name": rel, "width": rec["width"], "height": rec["height"]})
        for obj in rec["objects"]:
            x1, y1, x2, y2 = obj["box"]
            annotations.append({
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": _CAT_ID[obj["label"]],
                "bbox": [x1, y1, x2 - x1, y2 - y1],
                "area": (x2 - x1) * (y2 - y1),
                "iscrowd": 0,
            })
    coco = {
        "info": {"description": f"vrft synthetic shape detection ({split})"},
        "images": images,
        "annotations": annotations,
        "categories": CATEGORIES,
    }
    return write_json(task_dir / f"{split}.json", coco)
