"""The vLLM side of scripts/bench_vllm_rollout.py (run by it, in the vLLM environment): vrft's server
and bare vLLM in ONE process on ONE engine, so both paths are timed warm, on the same engine
config, interleaved, under the same machine load.

    python scripts/bench_vllm_bare.py --model DIR --port P [server args...]

It builds the server's own ``Engine`` from the server's own arguments and serves vrft's HTTP API on
a background thread (vrft's vLLM path goes through it exactly as in training). stdin takes one JSON
command per line, ``{"body": BODY.json, "thread": "main" | "worker"}``, and answers on stdout
``{"seconds", "tokens"}`` for one bare ``LLM.generate`` on those requests (media decoded before the
clock), called from the main thread (what a user script does) or from a fresh thread (what the
server's HTTP handler does); vLLM's own log goes to stderr. The first line on stdout describes the
engine: its scheduler limits, prefix caching, dtype and the thread settings in force.
"""

import json
import os
import sys
import threading
import time
from http.server import ThreadingHTTPServer

import torch

from vrft.serving.vllm_server import Engine, make_handler, parse_args


def timed_generate(engine: Engine, prompts: list, sp, result: dict) -> None:
    """One bare ``LLM.generate``; its seconds and generated tokens go into ``result``."""
    t = time.perf_counter()
    with engine.lock:
        outs = engine.llm.generate(prompts, sampling_params=sp, use_tqdm=False)
    result.update(seconds=time.perf_counter() - t, tokens=sum(len(c.token_ids) for o in outs for c in o.outputs))


def main() -> None:
    # The protocol keeps the original stdout; everything vLLM prints goes to stderr.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    args = parse_args(sys.argv[1:])
    engine = Engine(args)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(engine))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cfg = engine.llm.llm_engine.vllm_config
    proto.write(json.dumps({
        "max_num_seqs": cfg.scheduler_config.max_num_seqs,
        "max_num_batched_tokens": cfg.scheduler_config.max_num_batched_tokens,
        "prefix_caching": cfg.cache_config.enable_prefix_caching, "dtype": str(cfg.model_config.dtype),
        "torch_threads": torch.get_num_threads(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "KMP_", "VLLM_CPU"))}}) + "\n")
    cache: dict = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["body"] not in cache:
            with open(cmd["body"]) as f:
                body = json.load(f)
            cache[cmd["body"]] = ([Engine.prompt(r) for r in body["requests"]], Engine.sampling(body))
        result: dict = {}
        if cmd.get("thread") == "worker":
            th = threading.Thread(target=timed_generate, args=(engine, *cache[cmd["body"]], result))
            th.start()
            th.join()
        else:
            timed_generate(engine, *cache[cmd["body"]], result)
        proto.write(json.dumps(result) + "\n")
    server.shutdown()


if __name__ == "__main__":
    main()
