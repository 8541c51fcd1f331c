"""Side-by-side of the off-policy recipes on the synthetic colour task (docs/algorithms.md).

A tiny random Qwen2.5-VL (`vrft demo --datasets color`) with no warm-up, the same number of steps
per arm, two runs at a time with one thread each; prints each arm's held-out greedy accuracy at the
end (24 samples), the unparseable rate and the wall time, per seed and averaged.

    python scripts/bench_offpolicy.py OUT_DIR --steps 60 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def arms(steps: int) -> dict[str, list[str]]:
    return {
        "grpo": ["algo.gt_injection.enabled=false"],
        "luffy": ["algo.gt_injection.enabled=true", "algo.offpolicy.expert_form=luffy"],
        "chord": ["algo.gt_injection.enabled=true", "algo.offpolicy.expert_form=chord",
                  "algo.offpolicy.chord_mu_peak=0.5", "algo.offpolicy.chord_mu_valley=0.1",
                  f"algo.offpolicy.chord_mu_decay_steps={steps}"],
        "relift": ["algo.gt_injection.enabled=false", "algo.relift.enabled=true", "algo.relift.batch_size=8"],
        "tempsamp": ["algo.gt_injection.enabled=true", "algo.offpolicy.expert_advantage=tempsamp"],
        "remix": ["algo.gt_injection.enabled=true", "algo.remix.enabled=true"],
        "remix_kl": ["algo.gt_injection.enabled=true", "algo.remix.enabled=true", "algo.remix.kl_convex=true",
                     "algo.beta=0.01"],
        "prefix": ["algo.gt_injection.enabled=false", "algo.prefix_sampling.enabled=true"],
        "luffy_prefix": ["algo.gt_injection.enabled=true", "algo.prefix_sampling.enabled=true"],
        "sft": ["train.steps=0", f"train.warmup_sft_steps={steps}", "train.warmup_sft_lr=1e-3",
                "algo.gt_injection.enabled=false"],
    }


def run(out: str, arm: str, seed: int, steps: int, extra: list[str]) -> tuple[str, int, float, dict]:
    run_dir = os.path.join(out, f"{arm}-{seed}")
    common = ["train.warmup_sft_steps=0", "train.warmup_sft_curriculum=[]", f"train.steps={steps}",
              "train.lr=1e-3", "eval.every=0", "log.plots=false", "checkpoint.every=0", "checkpoint.save_final=false"]
    t0 = time.time()
    with open(run_dir + ".log", "w") as log:
        subprocess.run([sys.executable, "-m", "vrft", "demo", "--datasets", "color", "--fresh", "--seed", str(seed),
                        "--run-dir", run_dir, *common, *extra], stdout=log, stderr=subprocess.STDOUT,
                       env={**os.environ, "OMP_NUM_THREADS": "1"}, check=True)
    wall = time.time() - t0
    last = [json.loads(line) for line in open(os.path.join(run_dir, "eval.jsonl"))][-1]
    return arm, seed, wall, last["results"]["color"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--arms", nargs="+", default=None)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    table = arms(args.steps)
    names = args.arms or list(table)
    # Arm-major: the two runs in flight at the start have different seeds, so no two processes build
    # the same seed's tiny model at once (it is built on first use).
    jobs = [(a, s) for a in names for s in args.seeds]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda j: run(args.out, j[0], j[1], args.steps, table[j[0]]), jobs))
    print("| arm | " + " | ".join(f"seed {s}" for s in args.seeds) + " | mean accuracy | mean wall s |")
    print("|---|" + "---:|" * (len(args.seeds) + 2))
    for a in names:
        rs = [r for r in results if r[0] == a]
        cells = [f"{r[3]['accuracy']:.3f} (unparseable {r[3]['unparseable_rate']:.2f})" for r in rs]
        mean = sum(r[3]["accuracy"] for r in rs) / len(rs)
        print(f"| {a} | " + " | ".join(cells) + f" | {mean:.3f} | {sum(r[2] for r in rs) / len(rs):.0f} |")
    json.dump([list(r) for r in results], open(os.path.join(args.out, "results.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
