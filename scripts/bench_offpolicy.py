"""Side-by-side of the off-policy recipes on the synthetic colour task (docs/algorithms.md).

A tiny random Qwen2.5-VL (`vrft demo --datasets color`) with no warm-up, two runs at a time with one
thread each. Either every arm runs the same number of steps (`--steps`), or every arm gets the same
wall time (`--seconds`, through `train.time_limit_s`: a recipe that costs more per step gets fewer
steps). Prints each arm's held-out greedy accuracy at the end (24 samples), Avg@4 with its standard
error, the unparseable rate, the steps done and the wall time, per seed and averaged.

    python scripts/bench_offpolicy.py OUT_DIR --steps 60 --seeds 0 1 2
    python scripts/bench_offpolicy.py OUT_DIR --seconds 120 --prompts 4 --generations 8 --lr 5e-4 \
        --expert-form none --baseline mixed

Every arm with expert rows starts from `--expert-form` and `--baseline` (the config defaults, luffy
and sampled, unless given: the demo config itself uses none and mixed), then its own overrides.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

UNBOUNDED = 1_000_000  # the step count of a wall-time run: the budget stops it


def arms(decay_steps: int) -> dict[str, list[str]]:
    return {
        "grpo": ["algo.gt_injection.enabled=false"],
        "luffy": ["algo.gt_injection.enabled=true", "algo.offpolicy.expert_form=luffy"],
        "mixed": ["algo.gt_injection.enabled=true", "algo.offpolicy.expert_form=none",
                  "algo.offpolicy.group_baseline=mixed"],
        "chord": ["algo.gt_injection.enabled=true", "algo.offpolicy.expert_form=chord",
                  "algo.offpolicy.chord_mu_peak=0.5", "algo.offpolicy.chord_mu_valley=0.1",
                  f"algo.offpolicy.chord_mu_decay_steps={decay_steps}"],
        "relift": ["algo.gt_injection.enabled=false", "algo.relift.enabled=true", "algo.relift.batch_size=8"],
        "tempsamp": ["algo.gt_injection.enabled=true", "algo.offpolicy.expert_advantage=tempsamp"],
        "remix": ["algo.gt_injection.enabled=true", "algo.remix.enabled=true"],
        "remix_kl": ["algo.gt_injection.enabled=true", "algo.remix.enabled=true", "algo.remix.kl_convex=true",
                     "algo.beta=0.01"],
        "prefix": ["algo.gt_injection.enabled=false", "algo.prefix_sampling.enabled=true"],
        "luffy_prefix": ["algo.gt_injection.enabled=true", "algo.prefix_sampling.enabled=true"],
        "sft": ["train.steps=0", "train.warmup_sft_lr=1e-3", "algo.gt_injection.enabled=false"],
    }


def run(args, arm: str, seed: int, extra: list[str]) -> dict:
    run_dir = os.path.join(args.out, f"{arm}-{seed}")
    steps = UNBOUNDED if args.seconds else args.steps
    common = [f"algo.offpolicy.expert_form={args.expert_form}", f"algo.offpolicy.group_baseline={args.baseline}",
              "train.warmup_sft_curriculum=[]", f"train.lr={args.lr}", "eval.every=0", "log.plots=false",
              "checkpoint.every=0", "checkpoint.save_final=false", "log.progress_bar=false",
              f"rollout.prompts_per_step={args.prompts}", f"rollout.num_generations={args.generations}",
              "eval.samples_per_prompt=4", f"train.steps={steps}",
              f"train.warmup_sft_steps={steps if arm == 'sft' else 0}"]
    if args.seconds:
        common += [f"train.time_limit_s={args.seconds}", "eval.at_start=false"]
    t0 = time.time()
    with open(run_dir + ".log", "w") as log:
        subprocess.run([sys.executable, "-m", "vrft", "demo", "--datasets", "color", "--fresh", "--seed", str(seed),
                        "--run-dir", run_dir, *common, *extra], stdout=log, stderr=subprocess.STDOUT,
                       env={**os.environ, "OMP_NUM_THREADS": "1"}, check=True)
    wall = time.time() - t0
    last = [json.loads(line) for line in open(os.path.join(run_dir, "eval.jsonl"))][-1]
    rows = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    done = sum("sft/loss" in r for r in rows) if arm == "sft" else max(r["step"] for r in rows)
    return {"arm": arm, "seed": seed, "wall_s": wall, "steps": done, **last["results"]["color"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=60, help="the same steps per arm (ignored with --seconds)")
    ap.add_argument("--seconds", type=float, default=None, help="the same wall time per arm instead")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--arms", nargs="+", default=None)
    ap.add_argument("--lr", type=float, default=1e-3, help="RL learning rate (the sft arm uses 1e-3)")
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--generations", type=int, default=4)
    ap.add_argument("--expert-form", default="luffy", help="expert rows' objective unless an arm sets its own")
    ap.add_argument("--baseline", default="sampled", choices=["sampled", "mixed"],
                    help="algo.offpolicy.group_baseline of every arm")
    ap.add_argument("--chord-decay-steps", type=int, default=None, help="default: --steps")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    table = arms(args.chord_decay_steps or args.steps)
    names = args.arms or list(table)
    # Arm-major: the two runs in flight at the start have different seeds, so no two processes build
    # the same seed's tiny model at once (it is built on first use).
    jobs = [(a, s) for a in names for s in args.seeds]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda j: run(args, j[0], j[1], table[j[0]]), jobs))
    json.dump(results, open(os.path.join(args.out, "results.json"), "w"), indent=1)
    print("| arm | " + " | ".join(f"seed {s}: greedy / Avg@4 (steps)" for s in args.seeds)
          + " | mean greedy | mean Avg@4 | mean wall s |")
    print("|---|" + "---:|" * (len(args.seeds) + 3))
    for a in names:
        rs = [r for r in results if r["arm"] == a]
        cells = [f"{r['accuracy']:.2f} / {r['avg@4']:.2f}±{r['avg@4_se']:.2f} ({r['steps']})" for r in rs]
        mean = lambda key: sum(r[key] for r in rs) / len(rs)  # noqa: E731
        print(f"| {a} | " + " | ".join(cells) + f" | {mean('accuracy'):.3f} | {mean('avg@4'):.3f} | {mean('wall_s'):.0f} |")


if __name__ == "__main__":
    main()
