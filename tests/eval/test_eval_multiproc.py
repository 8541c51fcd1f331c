"""Data-parallel `vrft eval` under torchrun: 2 gloo processes give the same predictions and metrics
as one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from vrft.data.synth import generate


def _run(argv: list[str], nproc: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "-m", "vrft"] \
        if nproc > 1 else [sys.executable, "-m", "vrft"]
    return subprocess.run(launcher + argv, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.multiproc
def test_two_processes_match_one(tiny_model_dir, tmp_path):
    data = generate(str(tmp_path / "synth"), ["grounding"], n=0, seed=1, difficulty="easy", test_n=6)
    outs = {}
    for nproc in (1, 2):
        out = tmp_path / f"out{nproc}"
        argv = ["eval", "--model", tiny_model_dir(), "--benchmark", "refcoco", "--data", data["grounding"]["test"],
                "--out", str(out), "--max-new-tokens", "8", "--batch-size", "2", "--max-pixels", "12544",
                "--lenient"]
        proc = _run(argv, nproc)
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs[nproc] = out
    preds = [{r["id"]: r for r in map(json.loads, open(outs[k] / "predictions.jsonl"))} for k in (1, 2)]
    assert len(preds[0]) == len(preds[1]) == 6  # rank 0 wrote every rank's predictions, once each
    assert {i: r["completion"] for i, r in preds[0].items()} == {i: r["completion"] for i, r in preds[1].items()}
    metrics = [json.loads((outs[k] / "metrics.json").read_text())["metrics"] for k in (1, 2)]
    assert metrics[0] == metrics[1]


@pytest.mark.slow
@pytest.mark.multiproc
def test_an_error_on_one_rank_ends_the_run(tiny_model_dir, tmp_path):
    """A sample whose image cannot be decoded fails on the rank that holds it; the run must stop
    with an error instead of hanging in the exit barrier or a gather."""
    data = generate(str(tmp_path / "synth"), ["grounding"], n=0, seed=1, difficulty="easy", test_n=2)
    rows = json.loads(open(data["grounding"]["test"]).read())
    (tmp_path / "synth" / "grounding" / rows[1]["image"]).write_bytes(b"not a png at all")  # rank 1's sample
    argv = ["eval", "--model", tiny_model_dir(), "--benchmark", "refcoco", "--data", data["grounding"]["test"],
            "--out", str(tmp_path / "out"), "--max-new-tokens", "4", "--max-pixels", "12544"]
    proc = _run(argv, 2)
    assert proc.returncode != 0
    assert not (tmp_path / "out" / "metrics.json").exists()
