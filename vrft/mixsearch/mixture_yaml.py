"""Write copies of a mixture YAML (``datasets_cfg`` style) with new dataset weights.

The copy keeps every key of the original (rewards, vision, held-out, ``${VAR}`` paths), so the
best mixture found can be used as it is. It is usually written to another folder, so paths that
were relative to the original's folder are made absolute; ``${VAR}``, ``~`` and absolute paths are
kept as written. Comments are not kept.

    raw = read_raw_mixture("datasets_cfg/demo.yaml")
    text = mixture_yaml(raw, {"color": 0.3, "grounding": 0.7, ...}, strategy="fixed")
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any

import yaml

from vrft.data.loaders import get_loader
from vrft.data.mixture_config import CONFIG_DIR, MixtureConfig, load_mixture_config, parse_mixture_config
from vrft.data.paths import expand_env


@dataclass
class RawMixture:
    """A mixture YAML as plain data, with the folder its relative paths are relative to."""

    data: dict[str, Any]
    """The YAML's plain data, relative paths made absolute."""
    source: str
    """Absolute path of the YAML file."""
    config: MixtureConfig
    """The same file parsed and checked."""

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.config.datasets]


def resolve_mixture_path(path: str) -> str:
    """A mixture path, or a builtin name such as ``demo`` (``datasets_cfg/demo.yaml``), as
    :func:`vrft.data.mixture_config.load_mixture_config` resolves it."""
    if not os.path.exists(path) and os.path.exists(os.path.join(CONFIG_DIR, path + ".yaml")):
        return os.path.join(CONFIG_DIR, path + ".yaml")
    return path


def read_raw_mixture(path: str) -> RawMixture:
    """Check the mixture (as training would) and keep its plain data, relative paths made absolute."""
    path = resolve_mixture_path(path)
    checked = load_mixture_config(path)
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    data = absolutize_paths(data, os.path.dirname(os.path.abspath(path)))
    return RawMixture(data=data, source=os.path.abspath(path), config=checked)


def _abs(text: Any, base_dir: str) -> Any:
    if not isinstance(text, str):
        return text
    try:
        expanded = os.path.expanduser(expand_env(text))
    except ValueError:
        return text  # an unset variable: the loader will say so
    return text if os.path.isabs(expanded) else os.path.normpath(os.path.join(base_dir, expanded))


def _abs_list(value: Any, base_dir: str) -> Any:
    if isinstance(value, list):
        return [_abs(v, base_dir) for v in value]
    return _abs(value, base_dir)


def absolutize_paths(data: dict[str, Any], base_dir: str) -> dict[str, Any]:
    """A copy of a raw mixture config whose relative paths (files, media_root, held-out files and
    media_root, the loader's path options) are absolute, resolved against ``base_dir``."""
    data = copy.deepcopy(data)
    for d in data.get("datasets") or []:
        if not isinstance(d, dict):
            continue
        if "files" in d:
            d["files"] = _abs_list(d["files"], base_dir)
        if "media_root" in d:
            d["media_root"] = _abs(d["media_root"], base_dir)
        held = d.get("heldout")
        if isinstance(held, (str, list)):
            d["heldout"] = _abs_list(held, base_dir)
        elif isinstance(held, dict):
            if "files" in held:
                held["files"] = _abs_list(held["files"], base_dir)
            if "media_root" in held:
                held["media_root"] = _abs(held["media_root"], base_dir)
        opts = d.get("loader_opts")
        if isinstance(opts, dict) and isinstance(d.get("format"), str):
            try:
                path_opts = get_loader(d["format"]).path_opts
            except ValueError:
                path_opts = ()
            for key in path_opts:
                if key in opts:
                    opts[key] = _abs(opts[key], base_dir)
    return data


def with_weights(raw: RawMixture, weights: dict[str, float], strategy: str | None = None,
                 digits: int | None = None) -> dict[str, Any]:
    """The raw config with ``datasets[i].weight`` replaced; with ``strategy``, the mixture section
    becomes ``{strategy: <strategy>}`` plus the original ``update_every`` (floor and params belong to
    the original strategy and are dropped). ``digits`` rounds the weights (for reading)."""
    if set(weights) != set(raw.names):
        raise ValueError(f"weights must name exactly the datasets {raw.names}, got {sorted(weights)}")
    data = copy.deepcopy(raw.data)
    for d in data["datasets"]:
        w = float(weights[d["name"]])
        d["weight"] = round(w, digits) if digits is not None else w
    if strategy is not None:
        old = data.get("mixture") or {}
        data["mixture"] = {"strategy": strategy}
        if "update_every" in old:
            data["mixture"]["update_every"] = old["update_every"]
    return data


def mixture_yaml(raw: RawMixture, weights: dict[str, float], strategy: str | None = None,
                 header: str = "", digits: int | None = None) -> str:
    """YAML text of :func:`with_weights`, checked by the mixture parser, with ``header`` as comments."""
    data = with_weights(raw, weights, strategy, digits)
    parse_mixture_config(copy.deepcopy(data), os.path.dirname(raw.source), source=raw.source)
    lines = "".join(f"# {h}\n" if h else "#\n" for h in header.splitlines())
    return lines + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=110)


def write_mixture(path: str, raw: RawMixture, weights: dict[str, float], strategy: str | None = None,
                  header: str = "", digits: int | None = None) -> str:
    text = mixture_yaml(raw, weights, strategy, header, digits)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
