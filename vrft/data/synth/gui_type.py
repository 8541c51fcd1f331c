"""GUI typing: what text to type into a named field of a synthetic form.

Native jsonl, `gui_type/{split}.jsonl`, one `Sample.to_dict()` per line: task "gui", solution
`{"action": "type", "text": "hello"}`, images `["images/<split>_<i>.png"]`, meta
`{"field": "Name", "field_bbox": [x1, y1, x2, y2], "source": "prompt" | "screen", "width", "height"}`.

Two prompt kinds:
- "prompt": the text is in the instruction: "type 'hello' into the Name field";
- "screen": the text must be read off the screen: a yellow note shows "Code: K7P2" and the prompt
  says "type the code shown on the screen into the Coupon field".

Difficulty knobs (d in [0, 1]):
- share of "screen" prompts: 0% at d=0, 60% at d=1; decoy notes with other titles: 0 -> 2;
- fields and other widgets: 3-6 at d=0, 6-14 at d=1; text size and theme as in the gui task.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vrft.data.synth.common import (
    lerp, lerp_int, native_row, pick, pick_k, sample_name, sample_rng, save_png, write_jsonl,
)
from vrft.data.synth.screen import Widget, make_screen, make_widgets

NAME = "gui_type"
WORDS = ["hello", "alice", "paris", "london", "blue sky", "coffee", "tokyo", "bob smith", "42",
         "2025", "green tea", "ok thanks", "rome", "jazz", "maple", "river"]
NOTE_TITLES = ["Code", "Ref", "PIN", "Ticket", "Order"]
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _code(rng: np.random.Generator) -> str:
    return "".join(pick(rng, _ALNUM) for _ in range(int(rng.integers(4, 7))))


def make_sample(rng: np.random.Generator, d: float, _attempt: int = 0) -> tuple[np.ndarray, dict]:
    """One screen and its record: `prompt`, `text` to type, the target field and its box."""
    assert _attempt < 20, "no form fitted its screen"  # never seen: a d=0 form always fits
    n = int(rng.integers(lerp_int(3, 6, d), lerp_int(6, 14, d) + 1))
    widgets = make_widgets(rng, n, icon_frac=lerp(0.1, 0.3, d), kinds=("button", "icon", "field", "link"))
    widgets.insert(int(rng.integers(len(widgets) + 1)), Widget("field", pick(rng, ["Name", "Email", "Coupon", "Message"])))
    # Field labels must stay unique after the insert.
    seen, unique = set(), []
    for wd in widgets:
        if (wd.kind, wd.text) not in seen:
            seen.add((wd.kind, wd.text))
            unique.append(wd)
    widgets = unique
    from_screen = bool(rng.random() < lerp(0.0, 0.6, d))
    notes = []
    if from_screen:
        titles = pick_k(rng, NOTE_TITLES, 1 + int(rng.integers(0, lerp_int(0, 2, d) + 1)))
        notes = [Widget("note", t, value=_code(rng)) for t in titles]
        for note in notes:
            widgets.insert(int(rng.integers(len(widgets) + 1)), note)
    img, placed = make_screen(rng, d, widgets)
    fields = [wd for wd in placed if wd.kind == "field"]
    placed_notes = [wd for wd in placed if wd.kind == "note"]
    if not fields or (from_screen and not placed_notes):  # crowded screen: retry with fewer widgets
        return make_sample(rng, max(0.0, d - 0.25), _attempt + 1)
    target = fields[int(rng.integers(len(fields)))]
    if from_screen:
        note = placed_notes[int(rng.integers(len(placed_notes)))]
        text = note.value
        noun = {"Code": "code", "Ref": "reference", "PIN": "PIN", "Ticket": "ticket number", "Order": "order number"}[note.text]
        prompt = f"type the {noun} shown on the screen into the {target.text} field"
    else:
        text = pick(rng, WORDS)
        prompt = pick(rng, ["type '{x}' into the {f} field", "enter '{x}' in the {f} field",
                            "fill the {f} field with '{x}'"]).format(x=text, f=target.text)
    return np.asarray(img), {
        "prompt": prompt, "text": text, "field": target.text, "field_bbox": list(target.box),
        "source": "screen" if from_screen else "prompt", "width": img.width, "height": img.height,
    }


def write_split(task_dir: Path, split: str, n: int, seed: int, d: float) -> Path:
    rows = []
    for i in range(n):
        arr, rec = make_sample(sample_rng(seed, NAME, split, i), d)
        rel = "images/" + sample_name(split, i, "png")
        save_png(arr, task_dir / rel)
        rows.append(native_row(
            id=f"{NAME}-{split}-{i:05d}", dataset=NAME, task="gui", prompt=rec["prompt"], images=[rel],
            solution={"action": "type", "text": rec["text"]},
            meta={k: rec[k] for k in ("field", "field_bbox", "source", "width", "height")},
        ))
    return write_jsonl(task_dir / f"{split}.jsonl", rows)
