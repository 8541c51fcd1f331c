"""`vrft tiny-model OUT --family qwen2_5_vl [--hidden 64 ...]`: a random-weight offline checkpoint."""

from __future__ import annotations

from dataclasses import fields

from vrft.policy.tiny_model import FAMILIES, TinySize, build_tiny_model


def add_arguments(parser) -> None:
    parser.add_argument("out", help="output folder")
    parser.add_argument("--family", choices=FAMILIES, default="qwen2_5_vl")
    parser.add_argument("--seed", type=int, default=0)
    for f in fields(TinySize):
        parser.add_argument("--" + f.name.replace("_", "-"), type=int, default=f.default, dest=f.name)


def run(args) -> int:
    size = TinySize(**{f.name: getattr(args, f.name) for f in fields(TinySize)})
    out = build_tiny_model(args.out, args.family, size, seed=args.seed)
    print(f"wrote tiny {args.family} checkpoint to {out}")
    return 0
