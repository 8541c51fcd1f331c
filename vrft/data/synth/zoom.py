"""Zoom-in VQA: read the tiny text on one small sign in a large cluttered image.

Native jsonl, `zoom/{split}.jsonl`, one `Sample.to_dict()` per line: task "vqa", prompt
"What is written on the small red sign?", solution `{"answer": "7"}` (a number or a short
lower-case word), images `["images/<split>_<i>.png"]`, meta `{"region": [x1, y1, x2, y2],
"width", "height", "text_px"}` where `region` is the target sign's box. At the sizes used the text
is a few pixels tall once a model's processor shrinks the image, so it must zoom in to read it.

Each image holds clutter (outlined shapes, grey scribbles, decoy grey text) and one or more signs;
every sign has its own colour, so the colour in the question names exactly one sign.

Difficulty knobs (d in [0, 1]):
- image side: 896 px up to d=0.5, growing to 1152 px at d=1;
- text height: 14-16 px at d=0, 7-9 px at d=1;
- decoy signs (other colours, other texts): 0-1 at d=0, 3-6 at d=1;
- clutter items: 40 at d=0, 160 at d=1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from vrft.data.synth.common import (
    font, lerp_int, native_row, pick, pick_k, sample_name, sample_rng, save_png, write_jsonl,
)
from vrft.data.synth.shapes import COLOR_NAMES, COLORS

NAME = "zoom"
WORDS = ["cat", "sun", "map", "key", "box", "owl", "fig", "jam", "ice", "zen", "sky", "cup", "bus"]


def _answer(rng: np.random.Generator) -> str:
    if rng.random() < 0.5:
        return str(int(rng.integers(0, 100 if rng.random() < 0.5 else 10)))
    return pick(rng, WORDS)


def _free(box, taken, gap=6) -> bool:
    x1, y1, x2, y2 = box
    return all(x2 + gap <= a or c + gap <= x1 or y2 + gap <= b or e + gap <= y1 for a, b, c, e in taken)


def make_sample(rng: np.random.Generator, d: float) -> tuple[Image.Image, dict]:
    """The image and its record: `question`, `answer`, `region` [x1, y1, x2, y2], every sign."""
    side = lerp_int(896, 1152, max(0.0, d - 0.5) * 2) // 32 * 32
    img = Image.new("RGB", (side, side), tuple(int(v) for v in rng.integers(215, 250, size=3)))
    draw = ImageDraw.Draw(img)
    for _ in range(lerp_int(40, 160, d)):  # clutter: muted outlines, scribbles, decoy grey text
        x, y = (int(v) for v in rng.integers(0, side, size=2))
        s = int(rng.integers(10, 90))
        tone = tuple(int(v) for v in rng.integers(120, 200, size=3))
        kind = int(rng.integers(4))
        if kind == 0:
            draw.rectangle([x, y, x + s, y + s // 2], outline=tone, width=2)
        elif kind == 1:
            draw.ellipse([x, y, x + s, y + s], outline=tone, width=2)
        elif kind == 2:
            draw.line([(x, y), (x + int(rng.integers(-s, s)), y + int(rng.integers(-s, s)))], fill=tone, width=2)
        else:
            draw.text((x, y), pick(rng, WORDS + ["12", "34", "80"]), font=font(int(rng.integers(7, 12))), fill=tone)

    px = int(rng.integers(lerp_int(14, 7, d), lerp_int(16, 9, d) + 1))
    f = font(px)
    n_signs = 1 + int(rng.integers(lerp_int(0, 3, d), lerp_int(1, 6, d) + 1))
    colors = pick_k(rng, COLOR_NAMES, n_signs)
    answers = []
    while len(answers) < n_signs:
        a = _answer(rng)
        if a not in answers:
            answers.append(a)
    signs, taken = [], []
    for color, text in zip(colors, answers):
        tw = int(draw.textlength(text, font=f))
        m = max(3, px // 3)  # coloured frame around a white plate
        w, h = tw + px // 2 + 2 * m, int(px * 1.3) + 2 * m
        for _ in range(100):
            x, y = int(rng.integers(4, side - w - 4)), int(rng.integers(4, side - h - 4))
            if _free([x, y, x + w, y + h], taken):
                break
        else:
            continue
        box = [x, y, x + w, y + h]
        taken.append(box)
        draw.rectangle([x, y, x + w - 1, y + h - 1], fill=COLORS[color])
        draw.rectangle([x + m, y + m, x + w - 1 - m, y + h - 1 - m], fill=(252, 252, 252))
        draw.text((x + w / 2, y + h / 2), text, font=f, fill=(0, 0, 0), anchor="mm")
        signs.append({"color": color, "text": text, "box": box})
    target = signs[0]  # placed first into free space, so always placed
    return img, {
        "question": f"What is written on the small {target['color']} sign?",
        "answer": target["text"], "region": target["box"], "signs": signs,
        "width": side, "height": side, "text_px": px,
    }


def write_split(task_dir: Path, split: str, n: int, seed: int, d: float) -> Path:
    rows = []
    for i in range(n):
        img, rec = make_sample(sample_rng(seed, NAME, split, i), d)
        rel = "images/" + sample_name(split, i, "png")
        save_png(img, task_dir / rel, compress_level=1)
        rows.append(native_row(
            id=f"{NAME}-{split}-{i:05d}", dataset=NAME, task="vqa", prompt=rec["question"], images=[rel],
            solution={"answer": rec["answer"]},
            meta={"region": rec["region"], "width": rec["width"], "height": rec["height"], "text_px": rec["text_px"]},
        ))
    return write_jsonl(task_dir / f"{split}.jsonl", rows)
