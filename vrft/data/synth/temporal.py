"""Temporal grounding: when does "the red square appears" happen in a short video?

Charades-STA layout under `temporal/`:
- `{split}.txt`: one line per query, `VIDEOID start end##query`, seconds with one decimal, e.g.
  `train00003 1.2 3.4##the red square appears`;
- `videos/VIDEOID.mp4`: H.264 mp4, 4.0-8.0 s at 10 fps, 64-112 px square, one query per video;
- `durations.json`: `{VIDEOID: duration_s}` for both splits (duration = frames / fps).

Events, with the window `[start, end)` in seconds (frame k is shown at k / fps, and the event holds
exactly on the frames with start <= k / fps < end):
- "appears": the object is visible only inside the window ("the red square appears");
- "color": the object is there throughout and has another colour inside the window
  ("the green circle turns blue");
- "moves": the object stands still, moves on every frame inside the window, then rests where it
  stopped ("the yellow star moves").
Colours in a video are all different, so a colour names one object.

Difficulty knobs (d in [0, 1]):
- event length: 35-60% of the video at d=0, 10-25% at d=1 (never under 0.5 s);
- static distractor shapes: 0-1 at d=0, 0-3 at d=1; a distractor with its own event (another
  window): 0% at d=0, 60% at d=1; static background noise grows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from vrft.data.synth.common import lerp, lerp_int, pick, pick_k, sample_rng, write_json
from vrft.data.synth.shapes import COLOR_NAMES, COLORS, SHAPES, place_squares, shape_mask
from vrft.data.synth.video import write_mp4

NAME = "temporal"
FPS = 10
EVENTS = ("appears", "color", "moves")


def _window(rng: np.random.Generator, t: int, d: float) -> tuple[int, int]:
    """Event frames [k0, k1) with at least 3 quiet frames before and after."""
    length = int(round(t * rng.uniform(lerp(0.35, 0.1, d), lerp(0.6, 0.25, d))))
    length = max(5, min(length, t - 6))
    k0 = int(rng.integers(3, t - length - 3 + 1))
    return k0, k0 + length


def _path(rng: np.random.Generator, start: tuple[int, int], size: int, side: int, steps: int):
    """Positions for `steps` frames of motion: moves 1-3 px on every frame, bouncing off the edges."""
    axis = int(rng.integers(2))
    v = int(rng.integers(1, 4)) * (1 if rng.random() < 0.5 else -1)
    lo, hi = 0, side - size
    p = list(start)
    out = []
    for _ in range(steps):
        nxt = p[axis] + v
        if not lo <= nxt <= hi:
            v = -v
            nxt = p[axis] + v
        p[axis] = nxt
        out.append(tuple(p))
    return out


def _track(rng, event: str, t: int, window: tuple[int, int], pos, size: int, side: int, colors):
    """Per-frame (x, y, colour or None) of one object doing `event` in `window`."""
    k0, k1 = window
    a, b = colors
    if event == "appears":
        return [(pos[0], pos[1], a if k0 <= k < k1 else None) for k in range(t)]
    if event == "color":
        return [(pos[0], pos[1], b if k0 <= k < k1 else a) for k in range(t)]
    if event == "moves":
        moving = _path(rng, pos, size, side, k1 - k0)
        track = [(pos[0], pos[1], a)] * k0 + [(x, y, a) for x, y in moving]
        return track + [(moving[-1][0], moving[-1][1], a)] * (t - k1)
    return [(pos[0], pos[1], a)] * t  # static


def make_sample(rng: np.random.Generator, d: float, event: str | None = None) -> tuple[np.ndarray, dict]:
    """Frames (T, H, W, 3) and the record: `query`, frame window, `start`/`end` seconds, objects."""
    t = int(rng.integers(40, 81))
    side = int(pick(rng, [64, 80, 96, 112]))
    event = event or pick(rng, EVENTS)
    n_dis = int(rng.integers(0, lerp_int(1, 3, d) + 1))
    colors = pick_k(rng, COLOR_NAMES, n_dis + 2)  # target A, target B (colour change), distractors
    shapes = [pick(rng, SHAPES) for _ in range(n_dis + 1)]
    sizes = [max(14, int(side * rng.uniform(0.22, 0.32))) for _ in range(n_dis + 1)]
    window = _window(rng, t, d)
    grey = int(rng.integers(180, 240))
    bg = np.full((side, side, 3), grey, dtype=np.int16)
    if d > 0:
        bg += np.clip(rng.standard_normal((side, side, 1)) * lerp(0, 10, d), -25, 25).astype(np.int16)
    bg = np.clip(bg, 0, 255).astype(np.uint8)

    tracks = []
    positions = place_squares(rng, side, side, sizes, gap=2)
    for j, (shape, size, pos) in enumerate(zip(shapes, sizes, positions)):
        if pos is None:
            continue
        if j == 0:
            track = _track(rng, event, t, window, pos, size, side, (colors[0], colors[1]))
        else:
            own = pick(rng, ["appears", "moves"]) if rng.random() < lerp(0.0, 0.6, d) else "static"
            track = _track(rng, own, t, _window(rng, t, d), pos, size, side, (colors[j + 1], None))
        tracks.append((shape, size, track))
    assert tracks and positions[0] is not None  # the target goes first into an empty frame

    frames = np.repeat(bg[None], t, axis=0)
    for k in range(t):
        # Moving objects are drawn last so their motion always shows.
        for shape, size, track in sorted(tracks, key=lambda tr: len({p[:2] for p in tr[2]}) > 1):
            x, y, color = track[k]
            if color is not None:
                frames[k, y : y + size, x : x + size][shape_mask(shape, size)] = COLORS[color]

    a, b, shape = colors[0], colors[1], shapes[0]
    query = {
        "appears": f"the {a} {shape} appears",
        "color": f"the {a} {shape} turns {b}",
        "moves": f"the {a} {shape} moves",
    }[event]
    return frames, {
        "query": query, "event": event, "frames": window, "fps": FPS, "num_frames": t,
        "start": window[0] / FPS, "end": window[1] / FPS, "duration": t / FPS,
        "target": {"shape": shape, "color": a, "color_in_window": b if event == "color" else a},
        "size": side,
    }


def write_split(task_dir: Path, split: str, n: int, seed: int, d: float) -> Path:
    lines, durations = [], {}
    for i in range(n):
        frames, rec = make_sample(sample_rng(seed, NAME, split, i), d)
        vid = f"{split}{i:05d}"
        write_mp4(task_dir / "videos" / f"{vid}.mp4", frames, FPS)
        lines.append(f"{vid} {rec['start']:.1f} {rec['end']:.1f}##{rec['query']}\n")
        durations[vid] = round(rec["duration"], 1)
    out = task_dir / f"{split}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(lines), encoding="utf-8")
    dur_path = task_dir / "durations.json"
    if dur_path.exists():
        durations = {**json.loads(dur_path.read_text(encoding="utf-8")), **durations}
    write_json(dur_path, dict(sorted(durations.items())))
    return out
