"""The vLLM server for the tests here: the environment built (or reused) by scripts/vllm_env.sh, one
server process per module on a tiny Qwen2.5-VL with head size 64 (vLLM's CPU attention needs >= 32).

Skipped, with the reason, only when the environment cannot be built on this machine (no registry)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vrft.config.sections import TinySize
from vrft.policy.tiny_model import build_tiny_model
from vrft.rollout.vllm_client import VLLMClient, free_port

ROOT = Path(__file__).resolve().parents[2]
ENV = Path(os.environ.get("VRFT_VLLM_ENV", Path.home() / ".cache/vrft/vllm-env"))
TINY_VLLM = TinySize(hidden=256, layers=2, heads=4, kv_heads=2, intermediate=512, vision_hidden=128, vision_heads=2)
SERVER_ARGS = ["--dtype", "float32", "--max-model-len", "2048", "--enforce-eager", "--gpu-memory-utilization", "0.08"]
"""Engine settings of the test server on CPU (scripts/bench_vllm_rollout.py uses them too)."""
SERVER_ENV = {"VLLM_ENABLE_V1_MULTIPROCESSING": "0", "PYTHONPATH": str(ROOT)}


def vllm_python() -> Path:
    """The environment's python, built on first use (minutes; cached afterwards)."""
    if not (ENV / ".vrft-ok").exists():
        res = subprocess.run(["bash", str(ROOT / "scripts/vllm_env.sh"), str(ENV)], capture_output=True, text=True,
                             timeout=1800)
        if res.returncode != 0:
            pytest.skip(f"the vLLM environment could not be built here: {res.stderr[-800:]}")
    return ENV / "bin/python"


@pytest.fixture(scope="session")
def vllm_model_dir(tmp_path_factory) -> str:
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny_vllm"), "qwen2_5_vl", TINY_VLLM))


def start_server(model: str, log: Path, port: int | None = None, extra: tuple[str, ...] = ()):
    port = port or free_port()
    env = {**os.environ, **SERVER_ENV}
    cmd = [str(vllm_python()), str(ROOT / "vrft/serving/vllm_server.py"), "--model", model, "--port", str(port),
           *SERVER_ARGS, *extra]
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, cwd=str(ROOT))
    client = VLLMClient(f"http://127.0.0.1:{port}", timeout_s=300)
    try:
        client.wait_ready(timeout_s=600, proc=proc)
    except Exception:
        proc.kill()
        print(log.read_text()[-4000:], file=sys.stderr)
        raise
    return proc, client


@pytest.fixture(scope="module")
def vllm_server(vllm_model_dir, tmp_path_factory):
    """(process, client) of a server on the tiny model; killed after the module."""
    proc, client = start_server(vllm_model_dir, tmp_path_factory.mktemp("vllm_log") / "server.log")
    yield proc, client
    client.close()
    proc.kill()
    proc.wait(timeout=60)
