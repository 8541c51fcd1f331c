"""scripts/gpu_check.sh --cpu: the GPU check's whole program on the tiny model (what CI can run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
@pytest.mark.multiproc
def test_gpu_check_cpu_passes_every_backend_and_writes_the_json(tmp_path):
    out = tmp_path / "gpu_check.json"
    env = {**os.environ, "VRFT_VENV": sys.prefix, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(["bash", os.path.join(ROOT, "scripts", "gpu_check.sh"), "--cpu", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["ok"] and result["mode"] == "cpu"
    assert set(result["backends"]) == {"single", "fsdp2", "deepspeed_zero2", "deepspeed_zero3"}
    for name, entry in result["backends"].items():
        assert entry["ok"], (name, entry["error"])
        assert entry["steps"] == 2 and entry["rollout_tokens_per_s"] > 0 and entry["update_tokens_per_s"] > 0
        assert entry["mfu"] is None  # no peak rate on a CPU
    assert result["eval"]["ok"] and result["eval"]["metrics"]["n_samples"] == 32
    assert result["gpu_tests"]["ok"]


def test_gpu_check_without_a_gpu_asks_for_cpu():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gpu_check.py")], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert proc.returncode == 2 and "--cpu" in proc.stderr
