"""`vrft train CONFIG.yaml [key.sub=value ...]` (also under `torchrun -m vrft train ...`)."""

from __future__ import annotations

import os

from vrft.config import ConfigError, load_config
from vrft.grpo.config_names import CONFIG_REGISTRIES
from vrft.grpo.trainer import run_training


def add_arguments(parser) -> None:
    parser.add_argument("config", nargs="?", default=None,
                        help="run YAML (omit for the defaults: tiny model on the demo mixture)")
    parser.add_argument("overrides", nargs="*", help="dotted overrides such as train.lr=1e-4")


def run(args) -> int:
    config = args.config
    overrides = list(args.overrides)
    if config is not None and "=" in config and not os.path.exists(config):
        overrides.insert(0, config)  # `vrft train key=value` with no file
        config = None
    try:
        cfg = load_config(config, overrides, registries=CONFIG_REGISTRIES)
    except ConfigError as e:
        print(f"vrft train: config error: {e}")
        return 2
    run_training(cfg)
    return 0
