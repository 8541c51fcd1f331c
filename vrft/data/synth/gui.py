"""GUI grounding: click the named element on a synthetic app screen.

ScreenSpot layout under `gui/`:
- `{split}.json`: a JSON list of `{"img_filename": "<split>_<i>.png", "bbox": [x, y, w, h],
  "instruction": "click the Save button", "data_type": "text" | "icon", "data_source": "synthetic"}`;
  `img_filename` is a bare file name inside `images/` (ScreenSpot keeps its screenshots in one
  folder the same way); `bbox` is the target element's box in pixels, x/y its top-left corner;
- `images/<split>_<i>.png`: the screens.
Targets are buttons, fields (the input box), links and checkboxes (data_type "text") and icon
buttons (data_type "icon"); each target's text or icon name is unique on its screen.

Difficulty knobs (d in [0, 1]):
- widgets on screen: 4-8 at d=0, 8-18 at d=1;
- icon share: 20% -> 40%; text size 13-15 px -> 10-12 px; screen 320-400 px wide -> up to 448;
- dark theme in up to 30% of screens at d=1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vrft.data.synth.common import lerp, lerp_int, pick, sample_name, sample_rng, save_png, write_json
from vrft.data.synth.screen import make_screen, make_widgets

NAME = "gui"

_TEMPLATES = {
    "button": ["click the {t} button", "press {t}", "tap the {t} button"],
    "icon": ["click the {t} icon", "tap the {t} icon"],
    "field": ["click the {t} field", "select the {t} input"],
    "link": ["click the '{t}' link", "open '{t}'"],
    "check": ["tick the '{t}' checkbox", "toggle '{t}'"],
}


def make_sample(rng: np.random.Generator, d: float) -> tuple[np.ndarray, dict]:
    """One screen and its record: `instruction`, `box` [x1, y1, x2, y2], `data_type`, the widgets."""
    n = int(rng.integers(lerp_int(4, 8, d), lerp_int(8, 18, d) + 1))
    icon_frac = lerp(0.2, 0.4, d)
    widgets = make_widgets(rng, n, icon_frac)
    # Sometimes pre-fill a field, which makes its text visible but it stays "the X field".
    for wd in widgets:
        if wd.kind == "field" and rng.random() < 0.3:
            wd.value = pick(rng, ["john", "2024", "hello", "paris", "abc"])
    img, placed = make_screen(rng, d, widgets)
    target = placed[int(rng.integers(len(placed)))]
    instruction = pick(rng, _TEMPLATES[target.kind]).format(t=target.text)
    return np.asarray(img), {
        "instruction": instruction,
        "box": list(target.box),
        "data_type": "icon" if target.kind == "icon" else "text",
        "widgets": [(wd.kind, wd.text, wd.box) for wd in placed],
        "width": img.width,
        "height": img.height,
    }


def write_split(task_dir: Path, split: str, n: int, seed: int, d: float) -> Path:
    rows = []
    for i in range(n):
        arr, rec = make_sample(sample_rng(seed, NAME, split, i), d)
        name = sample_name(split, i, "png")
        save_png(arr, task_dir / "images" / name)
        x1, y1, x2, y2 = rec["box"]
        rows.append({
            "img_filename": name,
            "bbox": [x1, y1, x2 - x1, y2 - y1],
            "instruction": rec["instruction"],
            "data_type": rec["data_type"],
            "data_source": "synthetic",
        })
    return write_json(task_dir / f"{split}.json", rows)
