"""`vrft rewards list`: the registered rewards (built-ins and installed plugins) with their ranges."""

from __future__ import annotations

import argparse
import json

from rewards import plugins
from rewards.registry import list_rewards


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="rewards_command", metavar="ACTION")
    sub.required = True
    p = sub.add_parser("list", help="List registered rewards: name, module, range, one-line doc.")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")


def run(args: argparse.Namespace) -> int:
    errors = plugins.load_all_plugins(on_error="collect")
    specs = list_rewards(load_plugins=False)
    if getattr(args, "json", False):
        print(json.dumps([{"name": s.name, "module": s.module, "range": list(s.score_range),
                           "batched": s.batched, "doc": s.doc} for s in specs], indent=2))
    else:
        rows = [(s.name, s.module, f"[{s.score_range[0]:g}, {s.score_range[1]:g}]", s.doc) for s in specs]
        widths = [max(len(r[i]) for r in rows + [("name", "module", "range", "")]) for i in range(3)]
        print(f"{'name':<{widths[0]}}  {'module':<{widths[1]}}  {'range':<{widths[2]}}  description")
        for r in rows:
            print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")
    for e in errors:
        print(f"error: {e}")
    return 1 if errors else 0
