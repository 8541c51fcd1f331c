"""A shortened `vrft demo`: fresh cache, synthetic data, warm-up + GRPO, before/after table.

It trains on the colour task alone (the full demo mixes eight tasks and runs longer). Measured:
held-out accuracy 0.0 -> 1.0 for seeds 0 and 1 (about 50 s each on 2 cores); the margin asserted
(from at most 0.3 to at least 0.75; chance is 0.25) leaves room for seed-to-seed variation. The
test is not timed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_short_demo_learns(tmp_path, seed):
    env = {**os.environ, "VRFT_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "2"}
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "vrft", "demo", "--run-dir", str(run_dir), "--seed", str(seed), "--n", "200",
           "--test-n", "16", "--datasets", "color", "train.warmup_sft_steps=600", "train.steps=4",
           "eval.max_samples=16",
           "checkpoint.every=0", "log.tensorboard=false"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| dataset | before | after warm-up | after | delta |" in proc.stdout and "| color |" in proc.stdout
    evals = {e["tag"]: e["results"] for e in map(json.loads, open(run_dir / "eval.jsonl"))}
    before, warm, after = evals["start"], evals["after-warmup"], evals["end"]
    assert set(before) == set(warm) == {"color"}
    assert before["color"]["score"] <= 0.3, before["color"]
    assert warm["color"]["score"] >= 0.75 and after["color"]["score"] >= 0.75, (warm["color"], after["color"])
    assert (run_dir / "plots" / "rewards.png").exists() and (run_dir / "metrics.jsonl").exists()
