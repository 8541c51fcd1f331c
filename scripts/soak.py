"""Soak test: hundreds of GRPO steps on a tiny model, watching resident memory for leaks.

    python scripts/soak.py                                   # 300 steps, warm-up 100, RSS every 20 steps
    python scripts/soak.py --steps 1000 --tasks color,grounding,chart,temporal --tensorboard
    python scripts/soak.py --tracemalloc                     # + the Python allocation sites that grew

The real loop runs (`GRPOTrainer.train()`: rollouts, rewards, update, mixture and difficulty
updates, metrics.jsonl, optionally TensorBoard) on synthetic tasks written to a temporary folder.
Every `--every` steps the script collects garbage and prints the process RSS with what could hold
memory: the media cache, live tensors, Python objects. The goal is at most 5% RSS growth between
the end of warm-up (media cache filled, allocator pools grown) and the end of the run; the script
prints PASS or FAIL against it and always exits 0.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("FORCE_QWENVL_VIDEO_READER", "decord")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

GOAL_PCT = 5.0


def rss_mb() -> float:
    """Current resident set size (not the peak) in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource  # no /proc: the peak is the best available

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def live_tensors() -> tuple[int, float]:
    """(count, MB) of tensors reachable by the garbage collector (parameters and grads included)."""
    import warnings

    import torch

    n, nbytes = 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # isinstance on deprecated module attributes warns
        for obj in gc.get_objects():
            try:
                if isinstance(obj, torch.Tensor):
                    n += 1
                    if not obj.is_sparse and obj.device.type == "cpu":
                        nbytes += obj.untyped_storage().nbytes()
            except Exception:  # objects that fail isinstance (lazy modules)
                continue
    return n, nbytes / 2**20


def write_mixture(root: str, tasks: list[str], n: int) -> str:
    from vrft.data.synth import generate

    written = generate(os.path.join(root, "synth"), tasks, n, 0, "easy", 8)
    rewards = {"color": "answer_match", "grounding": "iou", "detection": "detection", "chart": "chart_answer",
               "gui": "gui_click", "gui_type": "gui_action", "temporal": "temporal_iou", "zoom": "answer_match"}
    fmt = {"color": ("jsonl", "vqa"), "grounding": ("refcoco", None), "detection": ("coco", None),
           "chart": ("chartqa", None), "gui": ("screenspot", None), "gui_type": ("jsonl", "gui"),
           "temporal": ("charades_sta", None), "zoom": ("jsonl", "vqa")}
    opts = {"chart": "{image_dir: png}", "gui": "{image_dir: images}",
            "temporal": "{video_dir: videos, durations: %s}" % os.path.join(root, "synth", "temporal",
                                                                             "durations.json")}
    lines = ["mixture: {strategy: bandit, floor: 0.1}", "difficulty: {enabled: true, min_evidence: 4}",
             "datasets:"]
    for t in tasks:
        f, task = fmt[t]
        lines += [f"  - name: {t}", f"    format: {f}", f"    files: {written[t]['train']}",
                  f"    rewards: [{{name: format, weight: 0.2}}, {{name: {rewards[t]}, weight: 1.0}}]",
                  "    vision: {max_pixels: 50176, nframes: 4}"]
        if task:
            lines.append(f"    task: {task}")
        if t in opts:
            lines.append(f"    loader_opts: {opts[t]}")
    path = os.path.join(root, "soak.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300, help="GRPO steps (default 300)")
    ap.add_argument("--warmup", type=int, default=None, help="steps before the RSS baseline (default steps // 3)")
    ap.add_argument("--every", type=int, default=20, help="print RSS every this many steps (default 20)")
    ap.add_argument("--tasks", default="color,grounding,temporal", help="synthetic tasks of the mixture")
    ap.add_argument("--n", type=int, default=32, help="training samples per task (default 32)")
    ap.add_argument("--family", default="qwen2_5_vl", choices=("qwen2_vl", "qwen2_5_vl", "qwen3_vl"))
    ap.add_argument("--prompts", type=int, default=2, help="P: prompts per step (default 2)")
    ap.add_argument("--generations", "-G", type=int, default=4, help="G: samples per prompt (default 4)")
    ap.add_argument("--max-new-tokens", type=int, default=16, help="(default 16)")
    ap.add_argument("--tensorboard", action="store_true", help="also write TensorBoard events (as train does)")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="trace Python allocations; print the sites that grew after warm-up (slow)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--keep", default=None, help="keep the run folder here instead of a temporary one")
    ap.add_argument("overrides", nargs="*", help="extra run-config overrides, e.g. algo.mu=2")
    args = ap.parse_args(argv)
    warmup = args.steps // 3 if args.warmup is None else args.warmup
    if args.steps < 2 or not 0 <= warmup < args.steps or args.every < 1:
        raise SystemExit("need --steps >= 2, 0 <= --warmup < --steps and --every >= 1")

    import torch

    from vrft.config import load_config
    from vrft.grpo.trainer import GRPOTrainer

    if args.threads:
        torch.set_num_threads(args.threads)
    tmp = None if args.keep else tempfile.TemporaryDirectory(prefix="soak_")
    root = args.keep or tmp.name
    os.makedirs(root, exist_ok=True)
    mixture = write_mixture(root, [t.strip() for t in args.tasks.split(",") if t.strip()], args.n)
    overrides = {
        "model.name_or_path": f"tiny:{args.family}", "data.config": mixture, "data.cache_dir": os.path.join(root, "cache"),
        "log.run_dir": os.path.join(root, "run"), "train.steps": args.steps, "rollout.prompts_per_step": args.prompts,
        "rollout.num_generations": args.generations, "rollout.max_new_tokens": args.max_new_tokens,
        "train.lr": 1e-3, "algo.gt_injection.enabled": "true", "algo.gt_injection.prob": 0.5,
        "checkpoint.every": 0, "checkpoint.save_final": "false", "checkpoint.resume": "none",
        "log.tensorboard": str(args.tensorboard).lower(), "log.plots": "false", "log.every": args.every,
        "log.progress_bar": "false", "eval.every": 0, "eval.at_start": "false", "eval.at_end": "false",
    }
    cfg = load_config(None, [f"{k}={v}" for k, v in overrides.items()] + list(args.overrides), world_size=1)
    trainer = GRPOTrainer(cfg)
    samples: list[tuple[int, float]] = []
    snapshot = {}
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(12)
    t0 = time.time()

    def sample(step: int) -> None:
        gc.collect()
        rss = rss_mb()
        samples.append((step, rss))
        n_t, mb_t = live_tensors()
        cache = trainer.policy.media_cache
        base = next((r for s, r in samples if s >= warmup), None)
        grow = f" ({(rss - base) / base * 100:+.1f}% vs warm-up)" if base and step > warmup else ""
        print(f"soak: step {step:>5d} rss {rss:8.1f} MB{grow} | media cache {len(cache)} items "
              f"{cache.bytes / 2**20:.1f} MB | tensors {n_t} ({mb_t:.1f} MB) | py objects {len(gc.get_objects())} "
              f"| {time.time() - t0:.0f}s", flush=True)
        if args.tracemalloc and step >= warmup and "warm" not in snapshot:
            import tracemalloc

            snapshot["warm"] = tracemalloc.take_snapshot()

    train_step = trainer.train_step

    def step_and_sample():  # the real loop calls this; sample after the step it counts
        metrics = train_step()
        step = trainer.step + 1
        if step % args.every == 0 or step == args.steps or step == warmup:
            sample(step)
        return metrics

    sample(0)
    trainer.train_step = step_and_sample
    trainer.train()
    summarize(samples, warmup, args.steps, time.time() - t0)
    if args.tracemalloc and "warm" in snapshot:
        import tracemalloc

        diff = tracemalloc.take_snapshot().compare_to(snapshot["warm"], "traceback")
        print("soak: Python allocations that grew most after warm-up:")
        for stat in diff[:8]:
            frame = stat.traceback[-1] if stat.traceback else None
            print(f"  {stat.size_diff / 2**10:+9.1f} KiB {stat.count_diff:+7d} blocks  {frame}")
    if tmp is not None:
        tmp.cleanup()
    return 0


def summarize(samples: list[tuple[int, float]], warmup: int, steps: int, seconds: float) -> None:
    after = [(s, r) for s, r in samples if s >= warmup]
    base = after[0][1]
    end = statistics.median(r for _, r in after[-3:])
    growth = (end - base) / base * 100
    slope = 0.0
    if len(after) >= 2:
        xs, ys = [s for s, _ in after], [r for _, r in after]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / max(sum((x - mx) ** 2 for x in xs), 1e-9)
    verdict = "PASS" if growth <= GOAL_PCT else "FAIL"
    print(f"soak: {steps} steps in {seconds:.0f}s ({steps / seconds:.2f} steps/s); rss start {samples[0][1]:.1f} MB, "
          f"after warm-up (step {after[0][0]}) {base:.1f} MB, end {end:.1f} MB, "
          f"peak {max(r for _, r in samples):.1f} MB; slope {slope * 100:+.2f} MB / 100 steps")
    print(f"soak: {verdict}: growth after warm-up {growth:+.2f}% (goal <= {GOAL_PCT:.0f}%)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
