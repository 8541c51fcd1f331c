"""Evaluate a model on the held-out splits of a mixture config; optionally print a before/after table.

    python scripts/eval_heldout.py --model runs/base --config demo --out before.json
    python scripts/eval_heldout.py --model runs/grpo/final --config demo --out after.json --before before.json

Uses the engine's API (`vrft.eval.evaluate_mixture_heldout`): each dataset's prompt template and
vision budget, its benchmark inferred from the task, greedy decoding. Writes {dataset: metrics}.
Runs under torchrun too (samples sharded by rank; rank 0 writes and prints).
"""

from __future__ import annotations

import argparse
import json


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="checkpoint folder or Hugging Face id")
    p.add_argument("--config", default="demo", help="mixture YAML or a builtin name (demo)")
    p.add_argument("--max-samples", type=int, default=32, help="held-out samples per dataset (32)")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--out", help="write {dataset: metrics} here (JSON)")
    p.add_argument("--before", help="an earlier --out file: print a before/after table of the headline scores")
    args = p.parse_args()

    from vrft.data.load import load_datasets
    from vrft.eval import before_after_table, evaluate_mixture_heldout
    from vrft.parallel.dist import init_distributed, shutdown
    from vrft.policy.policy import Policy

    info = init_distributed()
    try:
        policy = Policy.from_pretrained(args.model, device=info.device)
        scores = evaluate_mixture_heldout(policy, load_datasets(args.config), max_samples=args.max_samples,
                                          max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, info=info)
        if info.is_main:
            if args.out:
                with open(args.out, "w", encoding="utf-8") as f:
                    json.dump(scores, f, indent=2)
            if args.before:
                with open(args.before, encoding="utf-8") as f:
                    print(before_after_table(json.load(f), scores))
            else:
                for name, m in scores.items():
                    print(f"{name:12s} score={m['score']:.4f} n={int(m['n'])} unparseable={int(m['unparseable'])}")
    finally:
        shutdown()


if __name__ == "__main__":
    main()
