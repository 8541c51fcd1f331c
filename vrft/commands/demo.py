"""`vrft demo`: the embedded default, from nothing to a before/after table.

Builds (if absent) a tiny random Qwen2.5-VL checkpoint and the synthetic task suite in the cache
(`$VRFT_CACHE`, default `~/.cache/vrft`), trains with GRPO and learned mixture weights on the CPU,
evaluates the held-out splits before and after, and prints the table. Everything else a run
writes (checkpoints, metrics.jsonl, TensorBoard logs, PNG plots) is in the run directory.
"""

from __future__ import annotations

import json
import os

import yaml

from vrft.config import load_config
from vrft.configs import config_path
from vrft.data.mixture_config import load_mixture_config
from vrft.data.synth import generate, is_current
from vrft.data.synth.common import parse_difficulty
from vrft.eval.report import stages_table
from vrft.grpo.trainer import run_training

DEMO_TASKS = ["color", "grounding", "detection", "chart", "gui", "gui_type", "temporal", "zoom"]
#: Synthetic difficulty per task (`vrft synth --difficulty`): medium unless named here or given with
#: `--difficulty task=level`. RL alone takes a model of the demo's size to a temporal mIoU of about
#: 0.6 at easy against 0.3 at medium; typed GUI actions stay near 0 at either (docs/demo.md).
DEMO_DIFFICULTY: dict[str, str] = {"temporal": "easy", "gui_type": "easy"}


def add_arguments(parser) -> None:
    parser.add_argument("overrides", nargs="*", help="dotted overrides of the demo config, e.g. train.steps=50")
    parser.add_argument("--run-dir", default=None, help="run directory (default: runs/demo-seed<S>)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=200, help="synthetic training samples per task")
    parser.add_argument("--test-n", type=int, default=50, help="synthetic held-out samples per task")
    parser.add_argument("--fresh", action="store_true", help="start a new run even if the run dir has checkpoints")
    parser.add_argument("--datasets", default=None,
                        help="comma-separated subset of the demo mixture's datasets (default: all)")
    parser.add_argument("--difficulty", default=None,
                        help="synthetic difficulty per task, e.g. temporal=easy,gui_type=easy (default: medium)")


def cache_dir() -> str:
    return os.path.expanduser(os.environ.get("VRFT_CACHE", "~/.cache/vrft"))


def parse_difficulty_overrides(text: str | None) -> dict[str, str]:
    """`temporal=easy,gui_type=0.2` -> {task: level} over DEMO_DIFFICULTY; names and levels checked."""
    levels = dict(DEMO_DIFFICULTY)
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        task, sep, level = item.partition("=")
        if not sep or task not in DEMO_TASKS:
            raise SystemExit(f"vrft demo --difficulty: expected task=level with a task of {DEMO_TASKS}, got {item!r}")
        try:
            parse_difficulty(level)
        except ValueError as err:
            raise SystemExit(f"vrft demo --difficulty {item}: {err}") from None
        levels[task] = level
    return levels


def ensure_synthetic_data(root: str, n: int, test_n: int, tasks: list[str] = DEMO_TASKS,
                          difficulty: dict[str, str] | None = None) -> str:
    out = os.path.join(root, "synth")
    levels = DEMO_DIFFICULTY if difficulty is None else difficulty
    for level in sorted({levels.get(t, "medium") for t in tasks}):
        group = [t for t in tasks if levels.get(t, "medium") == level]
        missing = [t for t in group if not is_current(out, [t], n=n, seed=0, difficulty=level, test_n=test_n)]
        if missing:
            print(f"[vrft demo] generating synthetic tasks {missing} ({level}) in {out}", flush=True)
            generate(out, missing, n, 0, level, test_n)
    return out


def subset_mixture(names: list[str], run_dir: str) -> str:
    """Write the demo mixture restricted to `names` into the run dir; returns its path."""
    path = load_mixture_config("demo").source
    data = yaml.safe_load(open(path, encoding="utf-8"))
    known = [d["name"] for d in data["datasets"]]
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise SystemExit(f"vrft demo --datasets: unknown dataset(s) {unknown}; the demo has {known}")
    data["datasets"] = [d for d in data["datasets"] if d["name"] in names]
    os.makedirs(run_dir, exist_ok=True)
    out = os.path.join(run_dir, "mixture.yaml")
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump(data, f, sort_keys=False)
    return out


def read_evals(run_dir: str) -> list[dict]:
    """The run's held-out evaluations, in order (eval.jsonl: {"tag", "step", "results"} per line)."""
    with open(os.path.join(run_dir, "eval.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def before_after_table(evals: list[dict]) -> str:
    """Each dataset's held-out score before training, after the supervised warm-up (when the run
    had one) and after RL, with RL's own gain (after RL - after warm-up, or - before without a
    warm-up) and the whole run's, from the run's evaluations (:func:`read_evals`)."""
    before = next((e["results"] for e in evals if e["tag"] == "start"), None)
    warm = next((e["results"] for e in evals if e["tag"] == "after-warmup"), None)
    after = next((e["results"] for e in reversed(evals) if e["tag"] == "end"), None)
    if before is None or (warm is None and after is None):
        return "(no before/after evaluation recorded)"
    rl_from = 1 if warm is not None else 0
    last = 2 if after is not None else 1  # a supervised-only run (train.steps=0) ends after its warm-up
    return stages_table([("before", before), ("after warm-up", warm), ("after RL", after)],
                        gains=[("RL gain", rl_from, 2), ("total gain", 0, last)])


def avg_at_k_summary(evals: list[dict]) -> str | None:
    """The end evaluation's Avg@k per dataset with its standard error (eval.samples_per_prompt > 1),
    so a reader can tell a real gain from sampling noise; None when it was not measured."""
    end = next((e["results"] for e in reversed(evals) if e["tag"] == "end"), {})
    cells, label = [], None
    for name, m in end.items():
        key = next((k for k in m if k.startswith("avg@") and not k.endswith("_se")), None)
        if key:
            label = key
            cells.append(f"{name} {m[key]:.3f} +- {m[key + '_se']:.3f}")
    return f"{label} after RL (sampled, +- standard error over prompts): " + ", ".join(cells) if cells else None


def run(args) -> int:
    root = cache_dir()
    os.environ.setdefault("VRFT_CACHE", root)  # demo.yaml's paths expand ${VRFT_CACHE}
    names = [n.strip() for n in args.datasets.split(",") if n.strip()] if args.datasets else DEMO_TASKS
    ensure_synthetic_data(root, args.n, args.test_n, [t for t in DEMO_TASKS if t in names],
                          parse_difficulty_overrides(args.difficulty))
    run_dir = args.run_dir or os.path.join("runs", f"demo-seed{args.seed}")
    overrides = [f"train.seed={args.seed}", f"log.run_dir={run_dir}", f"data.cache_dir={root}"]
    if args.fresh:
        overrides.append("checkpoint.resume=none")
    if args.datasets:
        overrides.append(f"data.config={subset_mixture(names, run_dir)}")
    cfg = load_config(config_path("demo"), overrides + list(args.overrides))
    run_training(cfg)
    if int(os.environ.get("RANK", "0")) == 0:
        print("\nHeld-out score (greedy) before and after training:\n")
        evals = read_evals(run_dir)
        print(before_after_table(evals))
        summary = avg_at_k_summary(evals)
        if summary:
            print("\n" + summary)
        print(f"\nRun directory: {run_dir} (metrics.jsonl, eval.jsonl, plots/, tensorboard/, checkpoints/)")
    return 0
