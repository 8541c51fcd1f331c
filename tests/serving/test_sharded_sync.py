"""Weight sync from sharded trainers to the real vLLM server: a 2-process FSDP2 trainer and a 2-process
DeepSpeed ZeRO-3 trainer (gloo on CPU) each take one GRPO step with ``rollout.backend: vllm``; the
server's log-probs of a fixed continuation then match the trainer's own (sharded) forward within
``ATOL`` and moved by more than ``MOVED`` from the values before the step: the full weights were
gathered from the shards / partitions and all of them reached the server (tolerances as in
test_vllm_server.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import write_image
from tests.grpo.conftest import run_overrides, small_mixture  # noqa: F401 - fixtures
from tests.serving.conftest import ROOT
from tests.serving.test_vllm_server import ATOL, MOVED

pytestmark = [pytest.mark.slow, pytest.mark.multiproc]


def _max_diff(a, b) -> float:
    assert len(a) == len(b) > 0, (a, b)
    return max(abs(x - y) for x, y in zip(a, b))


@pytest.mark.parametrize("backend", ["fsdp2", "deepspeed"])
def test_a_sharded_trainer_syncs_full_weights(vllm_server, vllm_model_dir, run_overrides, tmp_path,  # noqa: F811
                                              backend):
    _, client = vllm_server
    extra = {"train.backend": backend}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    if backend == "deepspeed":
        pytest.importorskip("deepspeed")
        extra["train.deepspeed.zero_stage"] = 3
        env.setdefault("DS_ACCELERATOR", "cpu")
    args = run_overrides(**{
        "model.name_or_path": vllm_model_dir, "rollout.backend": "vllm", "rollout.vllm.server_url": client.url,
        "rollout.vllm.timeout_s": 120, "eval.at_start": "false", "eval.at_end": "false", "train.lr": 1e-2,
        "train.steps": 1, **extra})
    write_image(tmp_path / "a.png", 200, 120, 0)
    out = tmp_path / "scores.json"
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                           str(ROOT / "tests/serving/sharded_sync_worker.py"), str(out), str(tmp_path / "a.png"), *args],
                          env=env, capture_output=True, text=True, cwd=str(ROOT),
                          timeout=int(os.environ.get("VRFT_TEST_TIMEOUT", "600")))
    assert proc.returncode == 0, proc.stderr[-4000:]
    s = json.loads(out.read_text())
    assert s["world"] == 2 and s["sharded"]
    print(f"{backend}: |server - trainer| before {_max_diff(s['server_before'], s['trainer_before']):.2e}, after "
          f"{_max_diff(s['server_after'], s['trainer_after']):.2e}; moved {_max_diff(s['server_after'], s['server_before']):.3f}")
    assert _max_diff(s["server_before"], s["trainer_before"]) < ATOL
    assert _max_diff(s["server_after"], s["trainer_after"]) < ATOL, "the server does not hold the trainer's weights"
    assert _max_diff(s["server_after"], s["server_before"]) > MOVED, "the update did not reach the server"
