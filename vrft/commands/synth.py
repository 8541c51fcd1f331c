"""`vrft synth OUT`: generate synthetic verifiable tasks in public dataset formats.

    vrft synth data/synth --tasks grounding,detection,chart,gui,gui_type,temporal,zoom,color \\
        --n 200 --seed 0 --difficulty medium --test-n 50

See `vrft.data.synth` for the layout and formats written.
"""

from __future__ import annotations

import argparse
import time

from vrft.data.synth import TASK_NAMES, generate, is_current, parse_tasks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", help="output folder; one sub-folder per task plus manifest.json")
    parser.add_argument("--tasks", default="all",
                        help=f"comma-separated tasks or 'all' (default): {','.join(TASK_NAMES)}")
    parser.add_argument("--n", type=int, default=200, help="train samples per task (default 200)")
    parser.add_argument("--test-n", type=int, default=None,
                        help="test samples per task (default max(16, n // 4))")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--difficulty", default="medium",
                        help="easy, medium (default), hard, or a number in [0, 1]")
    parser.add_argument("--skip-if-current", action="store_true",
                        help="do nothing when OUT/manifest.json shows the same arguments and version")


def run(args: argparse.Namespace) -> int:
    try:
        tasks = parse_tasks(args.tasks)
        if args.skip_if_current and is_current(args.out, tasks, args.n, args.seed, args.difficulty, args.test_n):
            print(f"synth: {args.out} is up to date ({','.join(tasks)})")
            return 0
        t0 = time.perf_counter()
        written = generate(args.out, tasks, n=args.n, seed=args.seed, difficulty=args.difficulty,
                           test_n=args.test_n)
    except ValueError as err:
        print(f"vrft synth: error: {err}")
        return 2
    for task, splits in written.items():
        print(f"{task:10s} " + "  ".join(f"{split}={path}" for split, path in splits.items()))
    print(f"synth: {len(written)} tasks in {time.perf_counter() - t0:.1f}s -> {args.out}")
    return 0
