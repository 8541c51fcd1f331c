"""Typed run configuration: one YAML file plus dotted command-line overrides.

    cfg = load_config("run.yaml", ["train.lr=1e-4", "model.lora.enabled=true", "algo.loss=gspo"])

Every field is documented where it is declared (``vrft/config/sections.py`` and
``vrft/config/training.py``; ``describe()`` prints them all). An unknown key (with a "did you mean"),
a value of the wrong type, or an inconsistent combination raises :class:`ConfigError` naming the
dotted key and the fix, before any model is loaded. ``save_config`` writes the resolved config
(every field, defaults included) so a run can be reproduced with ``load_config(saved)``.

The parser underneath (:mod:`vrft.config.typed`) is the only one in vrft: mixture configs
(``vrft.data.mixture_config``) are read by it too. This package imports nothing of vrft but
:mod:`vrft.registry`; keys naming registry entries are checked against the ``registries`` the
caller passes (see :func:`check_names`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union

import yaml

from vrft.config.checks import Batching, check_names, check_tiny, resolve_batching, validate, world_size_from_env
from vrft.config.sections import (
    TINY_FAMILIES, TINY_PREFIX, DataConfig, LoraConfig, ModelConfig, RolloutConfig, TinySize, VllmConfig,
)
from vrft.config.training import (
    AlgoConfig, CheckpointConfig, DynamicSamplingConfig, EvalConfig, GtInjectionConfig, LogConfig, OffPolicyConfig,
    ReliftConfig, RemixConfig, TrainConfig,
)
from vrft.config.typed import ConfigError, apply_overrides, build, field_docs, iter_fields, parse_override
from vrft.config.typed import describe as _describe
from vrft.registry import Registry

__all__ = [
    "AlgoConfig", "Batching", "CheckpointConfig", "Config", "ConfigError", "DataConfig",
    "DynamicSamplingConfig", "EvalConfig", "GtInjectionConfig", "LogConfig", "LoraConfig", "ModelConfig", "OffPolicyConfig", "ReliftConfig", "RemixConfig",
    "RolloutConfig", "TINY_FAMILIES", "TINY_PREFIX", "TinySize", "TrainConfig", "VllmConfig",
    "apply_overrides", "check_names", "check_tiny", "config_from_dict", "describe", "field_docs",
    "iter_fields", "load_config", "parse_override", "resolve_batching", "save_config", "to_dict", "to_yaml",
    "validate",
]


@dataclass
class Config:
    """A whole run."""

    model: ModelConfig = field(default_factory=ModelConfig)
    """The policy model."""
    data: DataConfig = field(default_factory=DataConfig)
    """Training data."""
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    """Sampling of completions."""
    algo: AlgoConfig = field(default_factory=AlgoConfig)
    """The RL algorithm."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """Optimisation and parallelism."""
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    """Checkpoints."""
    log: LogConfig = field(default_factory=LogConfig)
    """Logging and run outputs."""
    eval: EvalConfig = field(default_factory=EvalConfig)
    """Evaluation."""


def config_from_dict(data: Optional[dict[str, Any]], overrides: Iterable[str] = (), *,
                     world_size: Optional[int] = None, check: bool = True,
                     registries: Optional[Mapping[str, Registry]] = None) -> Config:
    """Build and check a Config from plain data plus ``key.sub=value`` overrides.

    ``world_size`` (default: ``$WORLD_SIZE`` or 1) is used by the batching checks; ``registries``
    (dotted key -> Registry, e.g. ``vrft.grpo.config_names.CONFIG_REGISTRIES``) by the name checks.
    """
    data = apply_overrides(data or {}, overrides)
    cfg = build(Config, data)
    if check:
        validate(cfg, world_size_from_env() if world_size is None else world_size, registries)
    return cfg


def load_config(path: Union[str, os.PathLike, None] = None, overrides: Iterable[str] = (), *,
                world_size: Optional[int] = None, check: bool = True,
                registries: Optional[Mapping[str, Registry]] = None) -> Config:
    """Read ``path`` (YAML; None: all defaults), apply ``overrides`` in order, type-check, cross-check.

    Raises ConfigError (a ValueError) naming the dotted key; a missing or unreadable file names the path.
    ``registries`` as in :func:`config_from_dict`.
    """
    data: Any = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError("", f"config file {str(p)!r} does not exist")
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise ConfigError("", f"{p}: not valid YAML: {e}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError("", f"{p}: the top level must be a mapping of sections (model:, train:, ...)")
    try:
        return config_from_dict(data, overrides, world_size=world_size, check=check, registries=registries)
    except ConfigError as e:
        if path is not None:
            e.args = (f"{e.args[0]}  [in {path}]",)
        raise


def to_dict(cfg: Config) -> dict[str, Any]:
    """Plain nested dicts (every field, defaults included)."""
    return dataclasses.asdict(cfg)


def to_yaml(cfg: Config) -> str:
    """The resolved config as YAML, sections in declaration order."""
    return yaml.safe_dump(to_dict(cfg), sort_keys=False, default_flow_style=False)


def save_config(cfg: Config, path: Union[str, os.PathLike]) -> Path:
    """Write ``to_yaml(cfg)`` to ``path`` atomically (write then rename); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(to_yaml(cfg), encoding="utf-8")
    os.replace(tmp, path)
    return path


def describe() -> str:
    """Every config key with its type, default and documentation."""
    return _describe(Config)
