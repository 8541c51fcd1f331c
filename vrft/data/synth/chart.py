"""Chart question answering on bar and line charts drawn with matplotlib from known values.

ChartQA layout under `chart/`:
- `{split}.json`: a JSON list of `{"imgname": "<split>_<i>.png", "query": "...", "label": "12"}`;
  `imgname` is a bare file name inside `png/`, as in ChartQA;
- `png/<split>_<i>.png`: the charts;
- `tables/<split>_<i>.csv`: the data table of each chart (ChartQA ships these too).
Each chart carries two questions of different kinds, so a split of n rows has ceil(n / 2) charts.

Labels are what a reward expects: numbers as plain strings without trailing zeros ("12", "3.5"),
names as the category text exactly as drawn. Question kinds: the value of a category, which
category is highest / lowest (unique by construction), the difference and the sum of two values.

Difficulty knobs (d in [0, 1]):
- categories per chart: 3-5 at d=0, 4-9 at d=1;
- values: integers 1-20 at d=0; with growing probability larger ranges and one decimal (.5 steps);
- value labels printed on bars/points: always at d=0, 40% of charts at d=1 (unprinted charts use
  integers only, read from the grid);
- question mix: mostly value / max at d=0, mostly difference / sum at d=1.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

from vrft.data.synth.common import format_number, lerp, lerp_int, pick, pick_k, sample_rng, write_json

NAME = "chart"
QUESTIONS_PER_CHART = 2
DPI = 70

_CATEGORIES = {
    "fruit": ["Apple", "Pear", "Plum", "Fig", "Kiwi", "Lime", "Mango", "Peach", "Grape", "Melon", "Cherry"],
    "country": ["France", "Peru", "Japan", "Kenya", "Chile", "Norway", "India", "Spain", "Egypt", "Canada"],
    "team": ["Alpha", "Bravo", "Delta", "Echo", "Falcon", "Orion", "Nova", "Titan", "Vega", "Zephyr"],
}
_TITLES = {"fruit": "Fruit sold (tons)", "country": "Visitors (millions)", "team": "Points scored"}
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_BAR_COLORS = ["#4472c4", "#ed7d31", "#70ad47", "#5b9bd5", "#a5a5a5", "#7f3f98", "#c00000"]


def _values(rng: np.random.Generator, k: int, d: float, annotated: bool) -> list[float]:
    """`k` values with a unique max and min, in tenths to keep sums and differences exact."""
    top = int(pick(rng, [20, 50, 100])) if rng.random() < d else 20
    decimals = annotated and rng.random() < 0.5 * d
    while True:
        if decimals:
            tenths = rng.integers(2, 2 * top + 1, size=k) * 5  # .5 steps
        else:
            tenths = rng.integers(1, top + 1, size=k) * 10
        s = np.sort(tenths)
        if s[-1] != s[-2] and s[0] != s[1]:
            return [int(t) / 10 for t in tenths]


def make_chart(rng: np.random.Generator, d: float) -> dict:
    """The chart spec: kind ("bar" | "line"), title, x labels, values, whether values are printed."""
    kind = "bar" if rng.random() < 0.6 else "line"
    k = int(rng.integers(lerp_int(3, 4, d), lerp_int(5, 9, d) + 1))
    if kind == "bar":
        group = pick(rng, list(_CATEGORIES))
        labels, title, noun = pick_k(rng, _CATEGORIES[group], k), _TITLES[group], group
    else:
        if rng.random() < 0.5:
            start = int(rng.integers(2000, 2016))
            labels, noun = [str(start + j) for j in range(k)], "year"
        else:
            start = int(rng.integers(0, 12 - k + 1))
            labels, noun = _MONTHS[start : start + k], "month"
        title = pick(rng, ["Monthly revenue (k$)", "Average temperature", "Active users (k)"]) if noun == "month" \
            else pick(rng, ["Revenue (M$)", "Population (k)", "Exports (bn$)"])
    annotated = bool(rng.random() < lerp(1.0, 0.4, d))
    values = _values(rng, k, d, annotated)
    return {"kind": kind, "title": title, "noun": noun, "labels": labels, "values": values,
            "annotated": annotated, "color": pick(rng, _BAR_COLORS),
            "size": (float(rng.uniform(3.2, lerp(3.6, 4.8, d))), float(rng.uniform(3.2, lerp(3.6, 4.8, d))))}


def render(spec: dict, fig=None) -> tuple[np.ndarray, list[float]]:
    """Draw the chart; return the RGB pixels and the values read back from the drawn artists."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if fig is None:
        fig = Figure()
        FigureCanvasAgg(fig)
    fig.clear()
    fig.set_dpi(DPI)
    fig.set_size_inches(*spec["size"])
    ax = fig.add_subplot()
    x = list(range(len(spec["labels"])))
    if spec["kind"] == "bar":
        artists = ax.bar(x, spec["values"], color=spec["color"])
        drawn = [float(p.get_height()) for p in artists.patches]
        if spec["annotated"]:
            ax.bar_label(artists, labels=[format_number(v) for v in spec["values"]], fontsize=8)
    else:
        (line,) = ax.plot(x, spec["values"], marker="o", color=spec["color"])
        drawn = [float(v) for v in line.get_ydata()]
        if spec["annotated"]:
            for xi, v in zip(x, spec["values"]):
                ax.annotate(format_number(v), (xi, v), textcoords="offset points", xytext=(0, 4),
                            ha="center", fontsize=8)
    ax.set_xticks(x, spec["labels"], fontsize=8, rotation=45 if len(x) > 5 else 0)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylim(0, max(spec["values"]) * 1.15)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.grid(axis="y", alpha=0.4)
    ax.set_axisbelow(True)
    ax.set_title(spec["title"], fontsize=9)
    # Fixed margins (tight_layout would cost as much as the drawing itself).
    fig.subplots_adjust(left=38 / (spec["size"][0] * DPI), right=0.96, top=0.9,
                        bottom=(50 if len(x) > 5 else 30) / (spec["size"][1] * DPI))
    fig.canvas.draw()
    w, h = fig.canvas.get_width_height()
    rgba = np.frombuffer(fig.canvas.buffer_rgba(), dtype=np.uint8).reshape(h, w, 4)
    return rgba[..., :3].copy(), drawn


def make_questions(rng: np.random.Generator, spec: dict, k: int, d: float) -> list[tuple[str, str]]:
    """`k` (query, label) pairs of different kinds, answered from the spec's values."""
    labels, values, noun = spec["labels"], spec["values"], spec["noun"]
    at = "in" if spec["kind"] == "line" else "of"
    kinds = ["value", "max", "min", "diff", "sum"]
    weights = np.array([lerp(4, 1, d), lerp(3, 1, d), lerp(1, 1, d), lerp(1, 3, d), lerp(0.5, 2, d)])
    chosen = rng.choice(len(kinds), size=k, replace=False, p=weights / weights.sum())
    out = []
    for c in chosen:
        kind = kinds[int(c)]
        if kind == "value":
            j = int(rng.integers(len(labels)))
            out.append((f"What is the value {at} {labels[j]}?", format_number(values[j])))
        elif kind in ("max", "min"):
            j = int(np.argmax(values) if kind == "max" else np.argmin(values))
            word = "highest" if kind == "max" else "lowest"
            out.append((f"Which {noun} has the {word} value?", labels[j]))
        else:
            a, b = (int(v) for v in rng.permutation(len(labels))[:2])
            ta, tb = round(values[a] * 10), round(values[b] * 10)
            if kind == "diff":
                out.append((f"What is the difference between the values {at} {labels[a]} and {labels[b]}?",
                            format_number(abs(ta - tb) / 10)))
            else:
                out.append((f"What is the sum of the values {at} {labels[a]} and {labels[b]}?",
                            format_number((ta + tb) / 10)))
    return out


def _table_csv(spec: dict) -> str:
    head = spec["noun"].capitalize()
    lines = [f"{head},Value"] + [f"{lab},{format_number(v)}" for lab, v in zip(spec["labels"], spec["values"])]
    return "\n".join(lines) + "\n"


def write_split(task_dir: Path, split: str, n: int, seed: int, d: float) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    rows = []
    for c in range(math.ceil(n / QUESTIONS_PER_CHART)):
        rng = sample_rng(seed, NAME, split, c)
        spec = make_chart(rng, d)
        pixels, _ = render(spec, fig)
        imgname = f"{split}_{c:05d}.png"
        (task_dir / "png").mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(task_dir / "png" / imgname, compress_level=1)
        (task_dir / "tables").mkdir(parents=True, exist_ok=True)
        (task_dir / "tables" / imgname.replace(".png", ".csv")).write_text(_table_csv(spec), encoding="utf-8")
        k = min(QUESTIONS_PER_CHART, n - len(rows))
        for query, label in make_questions(rng, spec, k, d):
            rows.append({"imgname": imgname, "query": query, "label": label})
    return write_json(task_dir / f"{split}.json", rows)
