"""Rollout tokens/s in one run: vrft's vLLM path (VLLMServerBackend -> HTTP/JSON -> vrft's server) vs
bare vLLM ``LLM.generate`` on the same requests, vs vrft's HF path (``generate`` on the training model).
Tiny Qwen2.5-VL with head size 64 (vLLM's CPU attention needs >= 32); every completion is exactly
``--tokens`` long (min = max tokens).

    python scripts/bench_vllm_rollout.py                  # P=4 image prompts, G=8, 64 tokens, 3 repeats

Both vLLM paths run in one process of the vLLM environment on one engine (scripts/bench_vllm_bare.py
serves vrft's API and runs the bare calls), warm, interleaved repeat by repeat, so they share the
engine config, the caches and the machine's load. Bare vLLM is timed twice: ``LLM.generate`` from
the main thread (a user's script) and from a fresh thread (as the server's HTTP handler calls it);
docs/performance.md explains why the two differ on CPU. Prints one JSON line; medians of
``--repeats`` after one warm-up call each. Target: vrft's vLLM path >= 0.9 x bare vLLM.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("FORCE_QWENVL_VIDEO_READER", "decord")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import write_image  # noqa: E402
from tests.serving.conftest import SERVER_ARGS, SERVER_ENV, TINY_VLLM, vllm_python  # noqa: E402
from vrft.data.mixture_config import DatasetConfig, ToolsConfig  # noqa: E402
from vrft.data.sample import Sample  # noqa: E402
from vrft.policy.policy import Policy  # noqa: E402
from vrft.policy.sampling import SamplingParams  # noqa: E402
from vrft.policy.tiny_model import build_tiny_model  # noqa: E402
from vrft.rollout import HFBackend, VLLMServerBackend, prepare_episode, run_turn_loop  # noqa: E402
from vrft.rollout.vllm_client import VLLMClient, _encode_media, free_port  # noqa: E402


def timed(fns: dict, repeats: int) -> dict[str, float]:
    """Median seconds of each callable, interleaved (one call of each per repeat) after a warm-up each."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


class VllmHost:
    """scripts/bench_vllm_bare.py in the vLLM environment: vrft's server and bare vLLM on one engine."""

    def __init__(self, model: str, log: Path) -> None:
        port = free_port()
        self.log = log.open("w")
        self.proc = subprocess.Popen([str(vllm_python()), str(ROOT / "scripts/bench_vllm_bare.py"), "--model", model,
                                      "--port", str(port), *SERVER_ARGS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, env={**os.environ, **SERVER_ENV}, cwd=str(ROOT))
        self.client = VLLMClient(f"http://127.0.0.1:{port}", timeout_s=600)
        try:
            self.client.wait_ready(timeout_s=600, proc=self.proc)
        except Exception:
            self.close()
            raise SystemExit(f"the vLLM host did not start; its log: {log}")
        self.engine = json.loads(self.proc.stdout.readline())

    def bare(self, body: Path, thread: str) -> dict:
        self.proc.stdin.write(json.dumps({"body": str(body), "thread": thread}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the vLLM host exited; its log: {self.log.name}")
        return json.loads(line)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=4)
    ap.add_argument("-G", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp())
    model = str(build_tiny_model(work / "tiny", "qwen2_5_vl", TINY_VLLM))
    policy = Policy.from_pretrained(model)
    cfg = DatasetConfig(name="b", format="jsonl", files=["b.jsonl"], task="vqa", rewards=[], tools=ToolsConfig())
    eps = []
    for i in range(args.prompts):
        write_image(work / f"{i}.png", 200, 120, i)
        eps.append(prepare_episode(policy, Sample(id=f"b/{i}", dataset="b", task="vqa", prompt="What colour is it?",
                                                  solution={"answer": "red"}, images=[str(work / f"{i}.png")]), cfg))
    params = SamplingParams(max_new_tokens=args.tokens, min_new_tokens=args.tokens)
    n_tokens = args.prompts * args.G * args.tokens
    host = VllmHost(model, work / "vllm.log")
    try:
        backend = VLLMServerBackend(policy, engine=host.client)
        # The bare calls get the very requests vrft sends (media decoded before their clock).
        reqs = [backend.request(ep.request([])) for ep in eps]
        body = work / "body.json"
        body.write_text(json.dumps({"requests": [_encode_media(r) for r in reqs], "n": args.G,
                                    "params": {**backend.params(params, [], None), "seed": None}}))
        got = sum(len(t.completion) for t in run_turn_loop(backend, policy.processor, eps, args.G, params))
        assert got == n_tokens, f"vrft's vLLM path generated {got} tokens, expected {n_tokens}"
        for thread in ("main", "worker"):
            tokens = host.bare(body, thread)["tokens"]
            assert tokens == n_tokens, f"bare vLLM generated {tokens} tokens, expected {n_tokens}"
        secs = timed({"vrft": lambda: run_turn_loop(backend, policy.processor, eps, args.G, params),
                      "bare_main": lambda: host.bare(body, "main"),
                      "bare_worker": lambda: host.bare(body, "worker")}, args.repeats)
    finally:
        host.close()
    # The bare calls' own clocks exclude the stdin/stdout round trip; the outer ones are within ms of them.
    t_hf = timed({"hf": lambda: run_turn_loop(HFBackend(policy), policy.processor, eps, args.G, params)},
                 args.repeats)["hf"]
    tok_s = {k: round(n_tokens / v, 1) for k, v in secs.items()}
    print(json.dumps({"prompts": args.prompts, "G": args.G, "tokens": args.tokens, "generated_tokens": n_tokens,
                      "engine": host.engine, "vrft_vllm_tok_s": tok_s["vrft"],
                      "bare_vllm_worker_thread_tok_s": tok_s["bare_worker"],
                      "bare_vllm_main_thread_tok_s": tok_s["bare_main"], "hf_tok_s": round(n_tokens / t_hf, 1),
                      "vrft_vs_bare_worker": round(secs["bare_worker"] / secs["vrft"], 3),
                      "vrft_vs_bare_main": round(secs["bare_main"] / secs["vrft"], 3),
                      "vllm_vs_hf": round(t_hf / secs["vrft"], 2)}))


if __name__ == "__main__":
    main()
