"""`vrft eval`: evaluate a model on a benchmark, or compare two runs.

    vrft eval --model Qwen/Qwen2.5-VL-3B-Instruct --benchmark refcoco \\
        --data refcoco_val.json --media-root coco/train2014 --out runs/eval/base
    torchrun --nproc_per_node=4 -m vrft eval --model runs/grpo/final --benchmark refcoco ... --out runs/eval/rft
    vrft eval --model ... --benchmark screenspot --data "$SCREENSPOT_ROOT"/screenspot_*.json \
        --media-root "$SCREENSPOT_ROOT"/screenspot_imgs --out runs/eval/ss
    vrft eval --compare runs/eval/base runs/eval/rft

Greedy by default; `--n 8 --temperature 0.7` adds pass@k and Avg@8; `--samples-per-prompt 8` keeps
the greedy score and adds Avg@8 with its standard error (8 samples at `--sample-temperature`, 1.0). Predictions are appended to
OUT/predictions.jsonl batch by batch, so an interrupted run resumes where it stopped. Benchmarks:
see `vrft eval --list`.
"""

from __future__ import annotations

import argparse
import glob
import os

import yaml

from vrft.data.mixture_config import VisionConfig
from vrft.data.problems import DataValidationError
from vrft.eval.api import EvalSettings, ToolLoopUnavailable, tool_loop
from vrft.eval.benchmarks import BENCHMARKS
from vrft.eval.report import compare_table, metrics_table
from vrft.eval.run import EvalRun, run_eval


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = __doc__
    parser.add_argument("--model", help="checkpoint folder or Hugging Face id")
    parser.add_argument("--benchmark", help="benchmark name (see --list)")
    parser.add_argument("--data", nargs="+", metavar="FILE",
                        help="annotation file(s) in the benchmark's format, or quoted globs "
                             "('annotations/*.json'): all are evaluated together")
    parser.add_argument("--media-root",
                        help="folder media paths are relative to (default: the first data file's folder)")
    parser.add_argument("--out", help="output folder: predictions.jsonl, metrics.json, metrics.md")
    parser.add_argument("--max-samples", type=int, help="evaluate the first N samples only")
    parser.add_argument("--batch-size", type=int, default=8, help="prompts per generate call per process (8)")
    parser.add_argument("--n", type=int, default=1, help="completions per prompt; > 1 reports pass@k (1)")
    parser.add_argument("--temperature", type=float, default=0.0, help="sampling temperature; 0 is greedy (0)")
    parser.add_argument("--samples-per-prompt", type=int, default=1, metavar="K",
                        help="besides the greedy completion, sample K per prompt: Avg@K and its standard error (1)")
    parser.add_argument("--sample-temperature", type=float, default=1.0,
                        help="temperature of the --samples-per-prompt samples (1.0)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (1.0)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (0)")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="generation budget per completion (256)")
    parser.add_argument("--prompt-template", help="template name (default, no_think, r1) or inline text "
                                                  "with {question}; default: the benchmark's")
    parser.add_argument("--tools", nargs="?", const="zoom_in", default="",
                        help="enable tools (comma-separated, default zoom_in); needs the tool loop")
    parser.add_argument("--max-turns", type=int, default=3, help="most assistant turns with tools (3)")
    parser.add_argument("--lenient", action="store_true",
                        help="also parse answers without an <answer> block (default: the block is required)")
    parser.add_argument("--loader-opt", action="append", default=[], metavar="KEY=VALUE",
                        help="format loader option, e.g. durations=durations.json (repeatable)")
    parser.add_argument("--skip-invalid", action="store_true", help="drop invalid data rows with a warning")
    parser.add_argument("--overwrite", action="store_true", help="delete earlier predictions in --out first")
    parser.add_argument("--dtype", default="auto", help="auto, float32, bfloat16 or float16 (auto)")
    vision = parser.add_argument_group("vision budget (default: the framework's)")
    for name, kind in (("min-pixels", int), ("max-pixels", int), ("total-pixels", int), ("fps", float),
                       ("nframes", int), ("max-frames", int)):
        vision.add_argument("--" + name, type=kind, dest=name.replace("-", "_"))
    parser.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"),
                        help="print a side-by-side table of two runs' metrics and exit")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")


def _loader_opts(items: list[str]) -> dict:
    opts = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--loader-opt expects KEY=VALUE, got {item!r}")
        opts[key.strip()] = yaml.safe_load(value)
    return opts


def data_files(items: list[str]) -> list[str]:
    """``--data`` values with globs expanded (sorted); a glob that matches nothing is an error."""
    files: list[str] = []
    for item in items:
        if glob.has_magic(item):
            matched = sorted(glob.glob(os.path.expanduser(item)))
            if not matched:
                raise FileNotFoundError(f"--data: no file matches {item!r}")
            files += matched
        else:
            files.append(item)
    return list(dict.fromkeys(files))


def _list() -> int:
    for b in sorted({b.name: b for _, b in BENCHMARKS.items()}.values(), key=lambda b: b.name):
        names = ", ".join((b.name, *b.aliases))
        print(f"{names:32s} format={b.format:15s} task={b.task or '(per row)':10s} {b.doc}")
    return 0


def build_run(args: argparse.Namespace):
    missing = [f"--{k}" for k in ("model", "benchmark", "data", "out") if not getattr(args, k)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)} (or use --compare RUN_A RUN_B / --list)")
    vision = VisionConfig(**{k: getattr(args, k) for k in ("min_pixels", "max_pixels", "total_pixels", "fps",
                                                            "nframes", "max_frames")})
    if vision.fps and vision.nframes:
        raise ValueError("give --fps or --nframes, not both")
    settings = EvalSettings(max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_p=args.top_p,
                            n=args.n, samples_per_prompt=args.samples_per_prompt,
                            sample_temperature=args.sample_temperature, batch_size=args.batch_size, seed=args.seed,
                            require_answer_tag=not args.lenient, tools=bool(args.tools))
    files = data_files(args.data)
    return EvalRun(model=args.model, benchmark=args.benchmark, out=args.out,
                   data=files[0] if len(files) == 1 else files,
                   media_root=args.media_root, max_samples=args.max_samples, prompt_template=args.prompt_template,
                   vision=vision, loader_opts=_loader_opts(args.loader_opt),
                   tools=[t for t in args.tools.split(",") if t.strip()], max_turns=args.max_turns,
                   settings=settings, dtype=args.dtype, skip_invalid=args.skip_invalid, overwrite=args.overwrite)


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    if args.compare:
        try:
            print(compare_table(*args.compare))
        except FileNotFoundError as e:
            print(f"vrft eval: error: {e}")
            return 2
        return 0
    try:
        eval_run = build_run(args)
        if eval_run.tools:
            tool_loop()  # fail before loading anything
        summary = run_eval(eval_run)
    except (ValueError, FileNotFoundError, DataValidationError, ToolLoopUnavailable) as e:
        print(f"vrft eval: error: {e}")
        return 2
    if summary is not None:
        print(metrics_table(summary["metrics"], summary["benchmark"]))
        print(f"eval: {summary['n_samples']} samples ({summary['generated_this_run']} generated now) -> {args.out}")
    return 0
