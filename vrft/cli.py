"""The `vrft` command line: a thin dispatcher.

Each sub-command lives in `vrft/commands/<name>.py` and exposes `add_arguments(parser)` and
`run(args) -> int`. Modules are imported only when their command runs, so `vrft rewards list`
does not pay for importing torch and transformers.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS: dict[str, str] = {
    "train": "Train with GRPO from a YAML config (also under torchrun).",
    "eval": "Evaluate a model on a benchmark.",
    "synth": "Generate synthetic verifiable tasks in public dataset formats.",
    "tiny-model": "Write a tiny random-weight Qwen-VL checkpoint (offline).",
    "mix-search": "Offline mixture search over dataset weights.",
    "rewards": "List registered rewards.",
    "plot": "Redraw the PNG plots of a run directory.",
    "demo": "Build everything the embedded default needs, train, and print a before/after table.",
    "bench": "Benchmark vrft against TRL's GRPOTrainer.",
    "vllm-serve": "Start vrft's vLLM rollout server in its own environment (rollout.backend=vllm).",
    "data": "Check a mixture's data: decode every image and video (vrft data check CONFIG).",
}


def _module(name: str):
    return importlib.import_module("vrft.commands." + name.replace("-", "_"))


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vrft", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # Only the chosen command's module is imported (its arguments are needed to parse).
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            _module(name).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    sys.exit(_module(args.command).run(args) or 0)


if __name__ == "__main__":
    main()
