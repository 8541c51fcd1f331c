"""Mixture configs (``datasets_cfg/*.yaml``) parsed into typed dataclasses.

    mixture: {strategy: bandit, floor: 0.05, params: {temperature: 0.2}}
    difficulty: {enabled: true, hi: 0.95}
    datasets:
      - name: refcoco
        format: refcoco
        files: ${REFCOCO_ROOT}/refcoco_train.json
        media_root: ${COCO_ROOT}/train2014
        rewards: [{name: format, weight: 0.2}, {name: iou, weight: 1.0}]

Relative paths are relative to the YAML file's folder; ``${VAR}`` / ``${VAR:-default}`` and ``~`` are
expanded in paths. Parsed by :mod:`vrft.config.typed`, the run config's parser: unknown keys, wrong
types and failed checks raise :class:`~vrft.config.ConfigError` (a ValueError) naming the key path.
Reward names are checked later, against the registry, by :func:`validate_rewards`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from vrft.config.typed import ConfigError, build, did_you_mean, unknown_key
from vrft.data.difficulty import DifficultyConfig
from vrft.data.loaders import get_loader
from vrft.data.mixture_learning import get_strategy, parse_strategy_params
from vrft.data.paths import resolve_path
from vrft.tasks import TASKS
from vrft.data.templates import GT_TEMPLATES, template_text

CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "datasets_cfg")


@dataclass
class RewardSpec:
    """One reward applied to a dataset's completions."""

    name: str
    """Registered reward name (``format``, ``iou``, ...); checked by :func:`validate_rewards`."""
    weight: float = 1.0
    """Multiplier of this reward in the dataset's total reward."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments passed to the reward."""


@dataclass
class VisionConfig:
    """How the policy's processor sizes images and samples video frames (None: the model's default)."""

    min_pixels: int | None = None
    """Lower bound on an image's resized pixel count."""
    max_pixels: int | None = None
    """Upper bound on an image's resized pixel count."""
    fps: float | None = None
    """Video frames sampled per second (exclusive with ``nframes``)."""
    nframes: int | None = None
    """Fixed number of video frames (exclusive with ``fps``)."""
    max_frames: int | None = None
    """Upper bound on sampled video frames."""
    total_pixels: int | None = None
    """Budget of pixels over all frames of a video."""


@dataclass
class ToolsConfig:
    """Tools the model may call during a rollout of this dataset's prompts."""

    enabled: list[str] = field(default_factory=list)
    """Tool names (e.g. ``zoom_in``); empty: single-turn, no tools."""
    max_turns: int = 1
    """Most assistant turns per rollout (tool calls included)."""
    system_prompt: str | None = None
    """System prompt describing the tools (None: the tool registry's default)."""


@dataclass
class HeldoutConfig:
    """Evaluation data: separate file(s), or a fraction of the training rows split off."""

    files: list[str] = field(default_factory=list)
    """Held-out file(s) in the dataset's format."""
    media_root: str | None = None
    """Folder the held-out files' media paths are relative to (default: the dataset's media_root)."""
    fraction: float = 0.0
    """Share of the training rows moved to held-out (chosen by a hash of the id: deterministic)."""
    seed: int = 0
    """Seed of the fraction split."""
    max_samples: int | None = None
    """Cap on held-out samples (a deterministic subset)."""

    @classmethod
    def coerce(cls, value: Any, path: str) -> Any:
        if isinstance(value, (str, list)):
            return {"files": [value] if isinstance(value, str) else value}
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"fraction": value}
        if isinstance(value, dict) and isinstance(value.get("files"), str):
            return {**value, "files": [value["files"]]}
        return value


@dataclass
class DatasetConfig:
    """One dataset of the mixture."""

    name: str
    """Unique name; sample ids are ``<name>/<row id>`` and metrics ``reward/<name>/...``."""
    format: str
    """Loader name: refcoco, coco, chartqa, screenspot, screenspot_pro, charades_sta, activitynet, jsonl."""
    files: list[str]
    """Training file(s) (a single path is accepted)."""
    media_root: str | None = None
    """Folder media paths are relative to (default: the folder of the first file)."""
    task: str | None = None
    """Task (grounding, detection, chart, vqa, mcq, gui, temporal); default: the format's."""
    prompt_template: str = "default"
    """A named prompt template or inline text with ``{question}``."""
    gt_template: str | None = None
    """Style of the rendered ground-truth completion: ``answer`` or ``think`` (None: ``answer``)."""
    rewards: list[RewardSpec] = field(default_factory=list)
    """Rewards and their weights."""
    vision: VisionConfig = field(default_factory=VisionConfig)
    """Image resizing and video frame sampling."""
    tools: ToolsConfig = field(default_factory=ToolsConfig)
    """Tool use during rollouts."""
    weight: float = 1.0
    """Initial mixture weight (normalised over datasets)."""
    heldout: HeldoutConfig = field(default_factory=HeldoutConfig)
    """Held-out evaluation data."""
    skip_invalid: bool = False
    """Drop invalid rows with a warning instead of raising DataValidationError."""
    loader_opts: dict[str, Any] = field(default_factory=dict)
    """Format-specific loader options."""
    max_samples: int | None = None
    """Cap on training samples (a deterministic subset); None: all."""

    @classmethod
    def coerce(cls, value: Any, path: str) -> Any:
        if isinstance(value, dict) and isinstance(value.get("files"), str):
            value = {**value, "files": [value["files"]]}
        return value


@dataclass
class MixtureSettings:
    """How dataset weights evolve during training."""

    strategy: str = "fixed"
    """``fixed``, ``bandit`` (SEC-style) or ``exp_grad`` (DoReMi-style)."""
    floor: float = 0.0
    """Least weight of any dataset under a learned strategy (floor x datasets < 1)."""
    update_every: int = 1
    """Steps between weight updates."""
    params: dict[str, Any] = field(default_factory=dict)
    """Strategy parameters (see vrft/data/mixture_learning.py)."""


@dataclass
class MixtureConfig:
    """A whole mixture config file."""

    datasets: list[DatasetConfig]
    """The datasets of the mixture."""
    mixture: MixtureSettings = field(default_factory=MixtureSettings)
    """Mixture-weight strategy."""
    difficulty: DifficultyConfig = field(default_factory=DifficultyConfig)
    """Per-prompt difficulty tracking and skipping."""
    source: str | None = field(default=None, metadata={"internal": True})
    """The YAML file this came from (set by the loader, not a key)."""

    def dataset(self, name: str) -> DatasetConfig:
        for d in self.datasets:
            if d.name == name:
                return d
        raise KeyError(f"no dataset {name!r}; datasets: {[d.name for d in self.datasets]}")

    @property
    def weights(self) -> dict[str, float]:
        """Initial mixture weights, normalised."""
        total = sum(d.weight for d in self.datasets)
        return {d.name: d.weight / total for d in self.datasets}


def load_mixture_config(path: str) -> MixtureConfig:
    """Read and check a mixture YAML (a name such as ``demo`` means ``datasets_cfg/demo.yaml``)."""
    if not os.path.exists(path) and os.path.exists(os.path.join(CONFIG_DIR, path + ".yaml")):
        path = os.path.join(CONFIG_DIR, path + ".yaml")
    with open(path, encoding="utf-8") as f:
        try:
            data = yaml.safe_load(f)
        except yaml.YAMLError as e:
            raise ConfigError("", f"{path}: not valid YAML: {e}") from None
    try:
        return parse_mixture_config(data, os.path.dirname(os.path.abspath(path)), source=path)
    except ConfigError as e:
        e.args = (f"{e.args[0]}  [in {path}]",)
        raise
    except ValueError as e:  # a check outside the parser (paths, difficulty) names its key itself
        raise ConfigError("", f"{e}  [in {path}]") from None


def parse_mixture_config(data: Any, base_dir: str, source: str | None = None) -> MixtureConfig:
    """Check a mixture config given as plain data; paths are resolved against ``base_dir``."""
    cfg = build(MixtureConfig, data)
    cfg.source = source
    _check(cfg, base_dir)
    return cfg


def _check(cfg: MixtureConfig, base_dir: str) -> None:
    if not cfg.datasets:
        raise ConfigError("datasets", "at least one dataset is needed")
    seen: set[str] = set()
    for i, d in enumerate(cfg.datasets):
        _check_dataset(d, f"datasets[{i}]", base_dir)
        if d.name in seen:
            raise ConfigError(f"datasets[{i}].name", f"duplicate dataset name {d.name!r}")
        seen.add(d.name)
    if sum(d.weight for d in cfg.datasets) <= 0:
        raise ConfigError("datasets[*].weight", "at least one dataset needs a positive weight")
    m = cfg.mixture
    try:
        get_strategy(m.strategy)
    except ValueError as e:
        raise ConfigError("mixture.strategy", str(e)) from None
    parse_strategy_params(m.strategy, m.params, "mixture.params")
    if not 0.0 <= m.floor * len(cfg.datasets) < 1.0:
        raise ConfigError("mixture.floor", f"{m.floor} x {len(cfg.datasets)} datasets must be in [0, 1)")
    if m.update_every < 1:
        raise ConfigError("mixture.update_every", f"must be >= 1, got {m.update_every}")


def _check_dataset(d: DatasetConfig, path: str, base_dir: str) -> None:
    if not d.name or "/" in d.name:
        raise ConfigError(f"{path}.name", f"must be a non-empty name without '/', got {d.name!r}")
    try:
        loader = get_loader(d.format)
    except ValueError as e:
        raise ConfigError(f"{path}.format", str(e)) from None
    if d.task is not None and d.task not in TASKS:
        raise ConfigError(f"{path}.task", f"unknown task {d.task!r}{did_you_mean(d.task, TASKS)}; valid: {list(TASKS)}")
    if d.task is not None and loader.tasks and d.task not in loader.tasks:
        raise ConfigError(f"{path}.task", f"format {d.format!r} produces {list(loader.tasks)}, not {d.task!r}")
    d.task = d.task or loader.default_task
    if not d.files:
        raise ConfigError(f"{path}.files", "at least one training file is needed")
    d.files = [resolve_path(f, base_dir, f"{path}.files[{k}]") for k, f in enumerate(d.files)]
    d.media_root = resolve_path(d.media_root, base_dir, f"{path}.media_root") if d.media_root \
        else os.path.dirname(d.files[0])
    d.heldout.files = [resolve_path(f, base_dir, f"{path}.heldout.files[{k}]")
                       for k, f in enumerate(d.heldout.files)]
    d.heldout.media_root = resolve_path(d.heldout.media_root, base_dir, f"{path}.heldout.media_root") \
        if d.heldout.media_root else d.media_root
    for key in d.loader_opts:
        if key not in loader.options:
            raise unknown_key(f"{path}.loader_opts", key, loader.options)
    for key in loader.path_opts:
        if isinstance(d.loader_opts.get(key), str):
            d.loader_opts[key] = resolve_path(d.loader_opts[key], base_dir, f"{path}.loader_opts.{key}")
    try:
        template_text(d.prompt_template)
    except ValueError as e:
        raise ConfigError(f"{path}.prompt_template", str(e)) from None
    if d.gt_template is not None and d.gt_template not in GT_TEMPLATES:
        raise ConfigError(f"{path}.gt_template", f"unknown {d.gt_template!r}; valid: {sorted(GT_TEMPLATES)}")
    if not d.rewards:
        raise ConfigError(f"{path}.rewards", "at least one reward is needed, e.g. [{name: format, weight: 1.0}]")
    for k, r in enumerate(d.rewards):
        if not r.name:
            raise ConfigError(f"{path}.rewards[{k}].name", "must be a non-empty reward name")
    if d.weight < 0:
        raise ConfigError(f"{path}.weight", f"must be >= 0, got {d.weight}")
    h = d.heldout
    if not 0.0 <= h.fraction < 1.0:
        raise ConfigError(f"{path}.heldout.fraction", f"must be in [0, 1), got {h.fraction}")
    if h.files and h.fraction:
        raise ConfigError(f"{path}.heldout", "give either files or fraction, not both")
    _check_positive(d.max_samples, f"{path}.max_samples")
    _check_positive(h.max_samples, f"{path}.heldout.max_samples")
    v = d.vision
    for key in ("min_pixels", "max_pixels", "fps", "nframes", "max_frames", "total_pixels"):
        _check_positive(getattr(v, key), f"{path}.vision.{key}")
    if v.min_pixels and v.max_pixels and v.min_pixels > v.max_pixels:
        raise ConfigError(f"{path}.vision", f"min_pixels {v.min_pixels} > max_pixels {v.max_pixels}")
    if v.fps and v.nframes:
        raise ConfigError(f"{path}.vision", "give fps or nframes, not both")
    if d.tools.max_turns < 1:
        raise ConfigError(f"{path}.tools.max_turns", f"must be >= 1, got {d.tools.max_turns}")
    if d.tools.enabled and d.tools.max_turns < 2:
        raise ConfigError(f"{path}.tools.max_turns", "tools need at least 2 turns (call, then answer)")


def _check_positive(value: float | None, path: str) -> None:
    if value is not None and value <= 0:
        raise ConfigError(path, f"must be > 0, got {value}")


def validate_rewards(cfg: MixtureConfig, known_names: Any) -> None:
    """Raise ConfigError naming every reward of the config that is not in ``known_names``."""
    known = sorted(known_names)
    errors = []
    for i, d in enumerate(cfg.datasets):
        for k, r in enumerate(d.rewards):
            if r.name not in known:
                errors.append(f"datasets[{i}].rewards[{k}].name: unknown reward {r.name!r}"
                              f"{did_you_mean(r.name, known)}")
    if errors:
        raise ConfigError("", "\n".join(errors) + f"\nknown rewards: {known}")
