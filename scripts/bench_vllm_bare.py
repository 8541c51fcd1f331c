"""Bare vLLM ``LLM.generate`` on the requests of scripts/bench_vllm_rollout.py (run by it, in the vLLM
environment): the same engine settings as vrft's server, media decoded before the clock starts.

    python scripts/bench_vllm_bare.py MODEL BODY.json REPEATS   -> {"seconds": median, "tokens": generated}
"""

import json
import statistics
import sys
import time

from vrft.serving.vllm_server import Engine, parse_args


def main() -> None:
    model, body_path, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    engine = Engine(parse_args(["--model", model, "--dtype", "float32", "--max-model-len", "2048", "--enforce-eager",
                                "--gpu-memory-utilization", "0.08"]))
    body = json.load(open(body_path))
    prompts = [Engine.prompt(r) for r in body["requests"]]
    sp = Engine.sampling(body)
    engine.llm.generate(prompts, sampling_params=sp, use_tqdm=False)  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        outs = engine.llm.generate(prompts, sampling_params=sp, use_tqdm=False)
        times.append(time.perf_counter() - t)
    tokens = sum(len(c.token_ids) for o in outs for c in o.outputs)
    print(json.dumps({"seconds": statistics.median(times), "tokens": tokens}))


if __name__ == "__main__":
    main()
