"""`vrft bench [--variant image|multi_image|video|all] [--grad-ckpt on|off|both] [--short] ...`:
benchmark vrft's GRPO step against TRL's GRPOTrainer at identical settings.

A thin wrapper: the benchmark is `scripts/bench_vs_trl.py` of a source checkout (it also runs
on its own: `python scripts/bench_vs_trl.py --help`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_vs_trl.py"


def _script():
    if not SCRIPT.exists():
        return None
    spec = importlib.util.spec_from_file_location("bench_vs_trl", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add_arguments(parser) -> None:
    script = _script()
    if script is not None:
        script.add_arguments(parser)


def run(args) -> int:
    script = _script()
    if script is None:
        print(f"vrft bench: {SCRIPT} not found; the benchmark runs from a source checkout of vrft")
        return 2
    return script.run(args)
