"""Short runs of scripts/bench_policy.py and scripts/soak.py: they finish and print their report lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _script(name: str, args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", name), *args], env=env,
                          capture_output=True, text=True, timeout=600, cwd=ROOT)


@pytest.mark.slow
@pytest.mark.parametrize("media,family", [("image", "qwen2_5_vl"), ("multi", "qwen2_vl"), ("video", "qwen3_vl")])
def test_bench_policy_prints_throughputs(media, family):
    run = _script("bench_policy.py", ["--media", media, "--family", family, "--prompts", "2", "-G", "2",
                                      "--max-new-tokens", "4", "--repeats", "1", "--threads", "1",
                                      "--size", "hidden=32,intermediate=64"])
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    out = run.stdout
    assert f"family={family}" in out and f"media={media}" in out and "P=2 G=2" in out
    for key in ("rollouts/s", "logprob tok/s", "fwd+bwd tok/s"):
        m = re.search(rf"^{re.escape(key)}\s+([0-9.]+)", out, re.M)
        assert m and float(m.group(1)) > 0, (key, out)
    assert re.search(r"^peak RSS MB\s+\d+", out, re.M)
    assert "4 completions" in out  # P x G


def test_bench_policy_rejects_bad_size():
    run = _script("bench_policy.py", ["--size", "hiddn=32"])
    assert run.returncode != 0 and "--size" in run.stderr


@pytest.mark.slow
def test_soak_prints_rss_curve_and_verdict():
    run = _script("soak.py", ["--steps", "6", "--warmup", "2", "--every", "2", "--tasks", "color,grounding",
                              "--n", "8", "--max-new-tokens", "4", "-G", "2", "--threads", "1", "--tracemalloc"])
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    out = run.stdout
    steps = [int(s) for s in re.findall(r"^soak: step\s+(\d+) rss\s+[0-9.]+ MB", out, re.M)]
    assert steps == [0, 2, 4, 6]
    assert "media cache" in out and "tensors" in out
    assert re.search(r"^soak: (PASS|FAIL): growth after warm-up [+-][0-9.]+% \(goal <= 5%\)$", out, re.M)
    assert "Python allocations that grew most" in out


@pytest.mark.slow
def test_bench_rollout_prints_the_episode_to_single_turn_ratio():
    run = _script("bench_rollout.py", ["--prompts", "1", "-G", "2", "--final-tokens", "8", "--repeats", "1",
                                       "--threads", "1", "--size", "hidden=32,intermediate=64"])
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert re.search(r"^ratio episode / single-turn: [0-9.]+x", run.stdout, re.M), run.stdout
