"""Benchmark vrft's GRPO step against TRL 1.16's GRPOTrainer at identical settings.

Both sides train the same random Qwen2.5-VL (text hidden 256, 4 layers; vision depth 4, hidden 128)
on the same prompts and 448x448 PNGs with the same GRPO configuration: P=2 prompts x G=8 samples x
64 forced new tokens per step, temperature 1, lr 1e-6, beta 0, one update per batch, loss `grpo`
with clip 0.2, every parameter trained (vision tower included), the same reward and seed, and the
same gradient-checkpointing choice. Runs alternate (vrft, TRL, vrft, TRL, ...) in separate
subprocesses with the same thread count, so each peak RSS is its own run's.

    python scripts/bench_vs_trl.py --variant image --grad-ckpt both --repeats 3
    vrft bench --variant multi_image          # the same, as a vrft subcommand
    python scripts/bench_vs_trl.py --short    # CI-sized: tiny model, 2 steps, no speed threshold

Per-step time is the median over the steps after the warm-up ones, pooled over repeats; CPU-s/step
is the process's user + system CPU time per step. Every run gets OMP_WAIT_POLICY=PASSIVE (idle
OpenMP threads sleep rather than spin, which keeps timings sane when other processes share the
cores). `--ablate` adds vrft arms with optimisations turned off, to measure what each contributes.
TRL's GRPOTrainer has no official video input: `--variant video` reports vrft alone. Figures and
method: docs/performance.md.
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
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "bench"))

from workload import VARIANTS, Spec, default_cache, prepare, short_spec  # noqa: E402

RUNNERS = {"vrft": HERE / "bench" / "run_vrft.py", "trl": HERE / "bench" / "run_trl.py"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p)
    return p.parse_args(argv)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--variant", choices=VARIANTS + ("all",), default="image",
                   help="image: 1 image per prompt; multi_image: 2; video: one clip (vrft only); all: each")
    p.add_argument("--steps", type=int, default=None, help="steps per run (default 6; --short: 2)")
    p.add_argument("--warmup", type=int, default=None, help="leading steps left out of the median (default 2)")
    p.add_argument("--repeats", type=int, default=None, help="runs per side, alternating (default 2; --short: 1)")
    p.add_argument("--grad-ckpt", choices=("on", "off", "both"), default=None,
                   help="gradient checkpointing, the same on both sides (default both; --short: off)")
    p.add_argument("--threads", type=int, default=2, help="torch / OpenMP threads of every run")
    p.add_argument("--omp-wait-policy", choices=("PASSIVE", "ACTIVE", "unset"), default="PASSIVE",
                   help="OMP_WAIT_POLICY of every run. PASSIVE (default): idle OpenMP threads sleep instead of "
                        "spinning, which keeps timings stable when other processes share the cores")
    p.add_argument("--sides", default="vrft,trl", help="comma-separated: vrft, trl")
    p.add_argument("--ablate", default="",
                   help="extra vrft arms with optimisations turned off, run interleaved with the others: sets "
                        "separated by ';', each a comma-separated list of fast_decode, shared_prefix, "
                        "share_vision, shared_rollout (see scripts/bench/run_vrft.py), e.g. "
                        "'fast_decode;fast_decode,shared_prefix'")
    p.add_argument("--short", action="store_true", help="CI-sized: a much smaller model and 2 steps")
    p.add_argument("--cache-dir", default=None, help="checkpoint and data cache (default $VRFT_CACHE/bench)")
    p.add_argument("--json", default=None, help="also write every run's raw result to this JSON file")
    p.add_argument("--timeout", type=int, default=3600, help="seconds per run")


def run_side(side: str, spec: Spec, threads: int, timeout: int, wait_policy: str = "PASSIVE") -> dict:
    """One run of one side in a fresh process; its result dict (or an `error`)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if wait_policy != "unset":
        env["OMP_WAIT_POLICY"] = wait_policy
    env.update({"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "FORCE_QWENVL_VIDEO_READER": "decord", "TRANSFORMERS_VERBOSITY": "error"})
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, result_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "result.json")
        Path(spec_path).write_text(spec.to_json())
        t0 = time.time()
        proc = subprocess.run([sys.executable, str(RUNNERS[side]), spec_path, result_path], env=env,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not os.path.exists(result_path):
            tail = (proc.stderr or proc.stdout)[-3000:]
            return {"side": side, "error": f"exit {proc.returncode}: {tail}"}
        result = json.loads(Path(result_path).read_text())
    result["wall_s"] = time.time() - t0
    result["loadavg_1m"] = os.getloadavg()[0]
    return result


def summarise(runs: list[dict], warmup: int) -> dict | None:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return None
    steps = [s for r in ok for s in r["step_s"][warmup:]]
    cpu = [s for r in ok for s in r.get("cpu_s", [])[warmup:]]
    return {"s_step": statistics.median(steps), "min": min(steps), "max": max(steps),
            "cpu_step": statistics.median(cpu) if cpu else float("nan"),
            "rss": statistics.median(r["peak_rss_gb"] for r in ok), "n": len(steps),
            "prompt_tokens": ok[0].get("prompt_tokens"), "completion_len": ok[0].get("mean_completion_len", [None])[-1]}


def print_table(rows: list[tuple[str, str, str, dict | None]], out=sys.stdout) -> None:
    w = max([5] + [len(r[2]) for r in rows])
    header = (f"{'variant':<12} {'grad-ckpt':<9} {'side':<{w}} {'s/step':>7} {'[min, max]':>15} {'CPU-s/step':>10} "
              f"{'peak RSS GB':>11} {'steps':>5}")
    print(header, file=out)
    print("-" * len(header), file=out)
    by_key: dict[tuple[str, str], dict[str, dict | None]] = {}
    for variant, ckpt, side, summary in rows:
        by_key.setdefault((variant, ckpt), {})[side] = summary
    for (variant, ckpt), sides in by_key.items():
        for side, s in sides.items():
            if s is None:
                print(f"{variant:<12} {ckpt:<9} {side:<{w}} {'failed':>7}", file=out)
                continue
            rng = f"[{s['min']:.2f}, {s['max']:.2f}]"
            print(f"{variant:<12} {ckpt:<9} {side:<{w}} {s['s_step']:>7.2f} {rng:>15} {s['cpu_step']:>10.2f} "
                  f"{s['rss']:>11.2f} {s['n']:>5}", file=out)
        v, t = sides.get("vrft"), sides.get("trl")
        shape = ", ".join(f"{side} {s['prompt_tokens']} prompt + {s['completion_len']:.0f} completion tokens"
                          for side, s in sides.items() if s is not None and s.get("prompt_tokens")
                          and side in ("vrft", "trl"))
        if shape:
            print(f"{'':<12} {'':<9} {'(per sequence: ' + shape + ')'}", file=out)
        if v and t:
            print(f"{variant:<12} {ckpt:<9} {'ratio':<{w}} {t['s_step'] / v['s_step']:>6.2f}x faster "
                  f"(CPU {t['cpu_step'] / v['cpu_step']:.2f}x), peak RSS {v['rss'] / t['rss']:.2f}x of TRL's",
                  file=out)
        elif v and variant == "video" and "trl" not in sides:
            print(f"{variant:<12} {ckpt:<9} {'trl':<{w}} not run: TRL's GRPOTrainer has no official video input",
                  file=out)
        for side, s in sides.items():
            if v and s and side.startswith("vrft-no:"):
                print(f"{variant:<12} {ckpt:<9} {side:<{w}} {s['s_step'] / v['s_step']:>6.2f}x the full vrft "
                      f"step time, {s['rss'] / v['rss']:.2f}x its peak RSS", file=out)


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run the benchmark described by parsed `args` (see `add_arguments`); 1 if any run failed."""
    variants = list(VARIANTS) if args.variant == "all" else [args.variant]
    ckpts = {"on": [True], "off": [False], "both": [False, True]}[args.grad_ckpt or ("off" if args.short else "both")]
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    if args.short:
        steps, warmup, repeats = args.steps or 2, 1 if args.warmup is None else args.warmup, args.repeats or 1
    else:
        steps, warmup, repeats = args.steps or 6, 2 if args.warmup is None else args.warmup, args.repeats or 2
    if warmup >= steps:
        raise SystemExit(f"--warmup ({warmup}) must be less than --steps ({steps})")
    cache = Path(args.cache_dir) if args.cache_dir else default_cache()
    ablations = [[a.strip() for a in group.split(",") if a.strip()] for group in args.ablate.split(";")]
    arms = [(side, side, []) for side in sides]  # (label, runner, optimisations off)
    arms += [("vrft-no:" + "+".join(a), "vrft", a) for a in ablations if a]
    print(f"# vrft vs TRL GRPOTrainer: {steps} steps per run ({warmup} warm-up), {repeats} run(s) per side, "
          f"{args.threads} threads, OMP_WAIT_POLICY={args.omp_wait_policy}, "
          f"load average at start {os.getloadavg()[0]:.2f}", flush=True)
    rows, raw = [], []
    for variant in variants:
        base = short_spec(variant) if args.short else Spec(variant=variant)
        spec = prepare(replace(base, steps=steps, warmup=warmup, threads=args.threads), cache)
        run_arms = [a for a in arms if not (a[1] == "trl" and variant == "video")]
        for ckpt in ckpts:
            runs: dict[str, list[dict]] = {label: [] for label, _, _ in run_arms}
            for rep in range(repeats):
                for label, side, off in run_arms:  # alternate: vrft, TRL, vrft, TRL, ...
                    r = run_side(side, replace(spec, grad_ckpt=ckpt, ablate=off), args.threads, args.timeout,
                                 args.omp_wait_policy)
                    r.update(variant=variant, grad_ckpt=ckpt, repeat=rep, label=label)
                    runs[label].append(r)
                    raw.append(r)
                    msg = r["error"][-300:] if "error" in r else " ".join(f"{x:.2f}" for x in r["step_s"])
                    print(f"#   {variant} grad-ckpt={'on' if ckpt else 'off'} {label} run {rep + 1}: {msg}",
                          flush=True)
            for label, _, _ in run_arms:
                rows.append((variant, "on" if ckpt else "off", label, summarise(runs[label], warmup)))
    print(f"# load average at end {os.getloadavg()[0]:.2f}; model {spec.model.tag()}; "
          f"P={spec.prompts} G={spec.generations} new tokens={spec.new_tokens}")
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1))
    failed = [r for r in raw if "error" in r]
    for r in failed:
        print(f"# {r['side']} run failed: {r['error'][-1500:]}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
