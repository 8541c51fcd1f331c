"""Rollout tokens/s in one run: vrft's vLLM path (VLLMServerBackend -> HTTP -> vrft's server) vs bare
vLLM ``LLM.generate`` on the same prompts and media (same engine settings, no HTTP / JSON), vs vrft's
HF path (``generate`` on the training model). Tiny Qwen2.5-VL with head size 64 (vLLM's CPU
attention needs >= 32); every completion is exactly ``--tokens`` long (min = max tokens).

    python scripts/bench_vllm_rollout.py                  # P=4 image prompts, G=8, 64 tokens, 3 repeats

Needs the vLLM environment (scripts/vllm_env.sh). Prints one JSON line; medians of ``--repeats``
after one warm-up call. Target: vrft's vLLM path >= 0.9 x bare vLLM.
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
from tests.serving.conftest import TINY_VLLM, start_server, vllm_python  # noqa: E402
from vrft.data.mixture_config import DatasetConfig, ToolsConfig  # noqa: E402
from vrft.data.sample import Sample  # noqa: E402
from vrft.policy.policy import Policy  # noqa: E402
from vrft.policy.sampling import SamplingParams  # noqa: E402
from vrft.policy.tiny_model import build_tiny_model  # noqa: E402
from vrft.rollout import HFBackend, VLLMServerBackend, prepare_episode, run_turn_loop  # noqa: E402
from vrft.rollout.vllm_client import _encode_media  # noqa: E402

def timed(fn, repeats: int) -> float:
    fn()  # warm-up (its tokens are counted by the caller)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


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
    proc, client = start_server(model, work / "server.log")
    try:
        backend = VLLMServerBackend(policy, engine=client)
        got = sum(len(t.completion) for t in run_turn_loop(backend, policy.processor, eps, args.G, params))
        assert got == n_tokens, f"vrft's vLLM path generated {got} tokens, expected {n_tokens}"
        t_vrft = timed(lambda: run_turn_loop(backend, policy.processor, eps, args.G, params), args.repeats)
        # Bare vLLM on the very requests vrft sends (dumped as JSON), in the vLLM environment.
        reqs = [backend.request(ep.request([])) for ep in eps]
        body = {"requests": [_encode_media(r) for r in reqs],
                "n": args.G, "params": {**backend.params(params, [], None), "seed": None}}
        (work / "body.json").write_text(json.dumps(body))
    finally:
        proc.kill()
    bare = subprocess.run([str(vllm_python()), str(ROOT / "scripts/bench_vllm_bare.py"), model, str(work / "body.json"),
                           str(args.repeats)], capture_output=True, text=True, env={
                               **os.environ, "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "PYTHONPATH": str(ROOT)})
    if bare.returncode:
        raise SystemExit(bare.stderr[-3000:])
    bare_out = json.loads(bare.stdout.strip().splitlines()[-1])
    assert bare_out["tokens"] == n_tokens, f"bare vLLM generated {bare_out['tokens']} tokens, expected {n_tokens}"
    t_bare = bare_out["seconds"]
    t_hf = timed(lambda: run_turn_loop(HFBackend(policy), policy.processor, eps, args.G, params), args.repeats)
    print(json.dumps({"prompts": args.prompts, "G": args.G, "tokens": args.tokens, "generated_tokens": n_tokens,
                      "vrft_vllm_tok_s": round(n_tokens / t_vrft, 1), "bare_vllm_tok_s": round(n_tokens / t_bare, 1),
                      "hf_tok_s": round(n_tokens / t_hf, 1), "vrft_vs_bare": round(t_bare / t_vrft, 3),
                      "vllm_vs_hf": round(t_hf / t_vrft, 2)}))


if __name__ == "__main__":
    main()
