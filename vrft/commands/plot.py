"""`vrft plot RUN_DIR`: redraw a run's PNG plots from its metrics.jsonl."""

from __future__ import annotations

from vrft.grpo.plots import plot_run


def add_arguments(parser) -> None:
    parser.add_argument("run_dir")


def run(args) -> int:
    for path in plot_run(args.run_dir):
        print(path)
    return 0
