"""`vrft mix-search [CONFIG.yaml] --trials K --steps N [--out DIR] [--seed S] [key.sub=value ...]`.

CONFIG is a run config as for `vrft train` (omitted: the defaults, i.e. the tiny model on the demo
mixture); its `data.config` names the mixture searched. See `vrft.mixsearch.search` and
docs/mix_search.md.
"""

from __future__ import annotations

import argparse
import os

from vrft.config import ConfigError, load_config
from vrft.grpo.config_names import CONFIG_REGISTRIES
from vrft.mixsearch.search import SearchSettings, run_search


class _IntermixedParser(argparse.ArgumentParser):
    """Options may come between CONFIG and the overrides (`CONFIG --trials 8 train.lr=1e-3`)."""

    _inner = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inner:  # parse_known_intermixed_args calls back into parse_known_args
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.__class__ = _IntermixedParser
    parser.add_argument("config", nargs="?", default=None,
                        help="run YAML (omit for the defaults: tiny model on the demo mixture)")
    parser.add_argument("overrides", nargs="*", help="dotted overrides of the run config, e.g. rollout.max_new_tokens=32")
    parser.add_argument("--trials", type=int, default=16, help="proxy trainings K, the config's own mixture first "
                                                                "(default 16; at least N(N+1)/2 for N datasets)")
    parser.add_argument("--steps", type=int, default=20, help="GRPO steps per proxy training (default 20)")
    parser.add_argument("--out", default="runs/mix-search", help="output folder (default runs/mix-search)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampled mixtures (default 0)")
    parser.add_argument("--alpha", type=float, default=1.0,
                        help="Dirichlet concentration of the sampled mixtures (default 1: uniform)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="sample every trial (default: trial 0 is the config's own weights)")
    parser.add_argument("--eval-samples", type=int, default=None,
                        help="held-out samples per dataset per trial (default: eval.max_samples)")
    parser.add_argument("--eval-max-new-tokens", type=int, default=None,
                        help="evaluation generation budget (default: rollout.max_new_tokens)")
    parser.add_argument("--eval-batch-size", type=int, default=8, help="prompts per evaluation batch (default 8)")
    parser.add_argument("--score-weights", default=None,
                        help="weighted trial score, e.g. chart=2,grounding=1 (default: mean over datasets)")
    parser.add_argument("--ridge", type=float, default=1e-3, help="ridge strength of the surrogate (default 1e-3)")
    parser.add_argument("--min-weight", type=float, default=0.0,
                        help="least weight of any dataset in the predicted best mixture (default 0)")
    parser.add_argument("--fresh", action="store_true", help="rerun trials even when OUT has their results")


def _parse_score_weights(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    out = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--score-weights: expected NAME=WEIGHT[,NAME=WEIGHT...], got {part!r}") from None
        if not name.strip():
            raise ValueError(f"--score-weights: a dataset name is missing in {part!r}")
    return out


def run(args) -> int:
    config, overrides = args.config, list(args.overrides)
    if config is not None and "=" in config and not os.path.exists(config):
        overrides.insert(0, config)  # `vrft mix-search key=value` with no file
        config = None
    try:
        cfg = load_config(config, overrides, world_size=1, registries=CONFIG_REGISTRIES)
        settings = SearchSettings(
            trials=args.trials, steps=args.steps, seed=args.seed, alpha=args.alpha, baseline=not args.no_baseline,
            eval_max_samples=args.eval_samples, eval_max_new_tokens=args.eval_max_new_tokens,
            eval_batch_size=args.eval_batch_size, score_weights=_parse_score_weights(args.score_weights),
            ridge=args.ridge, min_weight=args.min_weight, resume=not args.fresh)
    except (ConfigError, ValueError) as e:
        print(f"vrft mix-search: config error: {e}")
        return 2
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 or cfg.train.backend != "single":
        print("vrft mix-search: runs single-process proxy trainings; launch it without torchrun and with "
              "train.backend=single")
        return 2
    try:
        run_search(cfg, settings, args.out)
    except (ValueError, FileNotFoundError) as e:
        print(f"vrft mix-search: error: {e}")
        if isinstance(e, FileNotFoundError) and cfg.data.config == "demo":
            print("the demo mixture's data is generated by `vrft synth ~/.cache/vrft/synth --n 200` "
                  "(or `vrft demo`)")
        return 2
    return 0
