"""Synthetic verifiable tasks, written in the public formats the loaders read.

    >>> from vrft.data.synth import generate
    >>> paths = generate("data/synth", ["color", "grounding"], n=200, seed=0)  # doctest: +SKIP
    >>> paths["grounding"]["train"]                                            # doctest: +SKIP
    'data/synth/grounding/train.json'

Command line: `vrft synth OUT --tasks grounding,chart --n 200 --seed 0 [--difficulty hard] [--test-n 50]`.

Layout (each task folder is the media root its annotation paths are relative to):

| task      | annotations                          | format            | media                    |
|-----------|--------------------------------------|-------------------|--------------------------|
| grounding | grounding/{train,test}.json          | RefCOCO-style     | grounding/images/*.png   |
| detection | detection/{train,test}.json          | COCO instances    | detection/images/*.png   |
| chart     | chart/{train,test}.json              | ChartQA           | chart/png/*.png (+tables)|
| gui       | gui/{train,test}.json                | ScreenSpot        | gui/images/*.png         |
| gui_type  | gui_type/{train,test}.jsonl          | native Sample     | gui_type/images/*.png    |
| temporal  | temporal/{train,test}.txt            | Charades-STA      | temporal/videos/*.mp4    |
| zoom      | zoom/{train,test}.jsonl              | native Sample     | zoom/images/*.png        |
| color     | color/{train,test}.jsonl             | native Sample     | color/images/*.png       |

Each module's docstring gives its exact fields and its difficulty knobs. Every sample has its own
random stream seeded by (seed, task, split, index): the same seed gives byte-identical annotation
files, and train and test never share a stream. `OUT/manifest.json` records the generator version
and the arguments per task, so `is_current` can tell whether a folder is up to date.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

from vrft.data.synth import chart, color, detection, grounding, gui, gui_type, temporal, zoom
from vrft.data.synth.common import SPLITS, parse_difficulty
from vrft.registry import Registry

# Bump when any generator's output changes for the same arguments (invalidates caches).
GENERATOR_VERSION = "1"

GENERATORS: Registry[ModuleType] = Registry("synth task", plural="synth tasks")
"""Task name -> generator module (``write_split(task_dir, split, n, seed, d)``)."""
for _module in (grounding, detection, chart, gui, gui_type, temporal, zoom, color):
    GENERATORS.register(_module.NAME, _module)
TASK_NAMES = tuple(m.NAME for m in (grounding, detection, chart, gui, gui_type, temporal, zoom, color))
MANIFEST = "manifest.json"


def parse_tasks(tasks: str | list[str] | tuple[str, ...]) -> list[str]:
    """`"grounding,chart"`, `"all"` or a list -> validated task names, in the given order, no repeats."""
    if isinstance(tasks, str):
        tasks = [t for t in (s.strip() for s in tasks.split(",")) if t]
    names: list[str] = []
    for t in tasks:
        expanded = list(TASK_NAMES) if t == "all" else [t]
        for name in expanded:
            if name not in GENERATORS:
                raise ValueError(f"{GENERATORS.unknown_message(name)} or 'all'")
            if name not in names:
                names.append(name)
    if not names:
        raise ValueError(f"no synth task given; choose from {', '.join(TASK_NAMES)} or 'all'")
    return names


def default_test_n(n: int) -> int:
    return max(16, n // 4)


def _task_params(n: int, seed: int, difficulty: float, test_n: int) -> dict[str, Any]:
    return {"version": GENERATOR_VERSION, "seed": seed, "n": n, "test_n": test_n, "difficulty": difficulty}


def _check_counts(n: int, test_n: int, seed: int) -> None:
    for key, value in (("n", n), ("test_n", test_n), ("seed", seed)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{key} must be a non-negative integer, got {value!r}")


def generate(
    out_dir: str | Path,
    tasks: str | list[str] | tuple[str, ...] = "all",
    n: int = 200,
    seed: int = 0,
    difficulty: str | float | None = "medium",
    test_n: int | None = None,
) -> dict[str, dict[str, str]]:
    """Write each task's train (n) and test (test_n) splits under `out_dir/<task>/`.

    A task's folder is replaced as a whole, so no stale media survive a smaller rerun; other
    tasks' folders are left alone. Returns `{task: {"train": path, "test": path}}` (annotation files;
    temporal also writes `temporal/durations.json`) and records the run in `out_dir/manifest.json`.
    """
    names = parse_tasks(tasks)
    d = parse_difficulty(difficulty)
    test_n = default_test_n(n) if test_n is None else test_n
    _check_counts(n, test_n, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, dict[str, str]] = {}
    for name in names:
        task_dir = out / name
        if task_dir.exists():
            shutil.rmtree(task_dir)
        task_dir.mkdir(parents=True)
        counts = {"train": n, "test": test_n}
        written[name] = {
            split: str(GENERATORS.get(name).write_split(task_dir, split, counts[split], seed, d)) for split in SPLITS
        }
    _update_manifest(out, names, n, seed, d, test_n, written)
    return written


def _update_manifest(out: Path, names, n, seed, d, test_n, written) -> None:
    path = out / MANIFEST
    previous = _read_manifest(out)
    per_task = dict(previous.get("per_task", {})) if previous else {}
    params = _task_params(n, seed, d, test_n)
    for name in names:
        rel = {split: str(Path(p).relative_to(out)) for split, p in written[name].items()}
        per_task[name] = {**params, "files": rel}
    manifest = {
        "generator": "vrft.data.synth",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "n": n,
        "test_n": test_n,
        "difficulty": d,
        "tasks": names,
        "per_task": dict(sorted(per_task.items())),
    }
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _read_manifest(out: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(
    out_dir: str | Path,
    tasks: str | list[str] | tuple[str, ...] = "all",
    n: int = 200,
    seed: int = 0,
    difficulty: str | float | None = "medium",
    test_n: int | None = None,
) -> bool:
    """True when `out_dir` already holds every task generated with these arguments by this version."""
    out = Path(out_dir)
    manifest = _read_manifest(out)
    if manifest is None:
        return False
    params = _task_params(n, seed, parse_difficulty(difficulty), default_test_n(n) if test_n is None else test_n)
    for name in parse_tasks(tasks):
        entry = manifest.get("per_task", {}).get(name)
        if entry is None or any(entry.get(k) != v for k, v in params.items()):
            return False
        if not all((out / rel).exists() for rel in entry.get("files", {}).values()):
            return False
    return True


__all__ = ["GENERATORS", "GENERATOR_VERSION", "TASK_NAMES", "generate", "is_current", "parse_tasks"]
