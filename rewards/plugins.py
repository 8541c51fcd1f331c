"""External reward plugins, found through the ``vrft.rewards`` entry-point group.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."vrft.rewards"]
    my_reward = "my_pkg.rewards:my_reward"

The entry point is loaded lazily, the first time ``get_reward("my_reward")`` misses the registry
or ``list_rewards()`` runs. Its target may be a function decorated with ``@register_reward`` (any
name registered by importing it counts), a plain reward function (registered under the entry-point
name with range (0, 1), or ``fn.reward_range`` / ``fn.reward_batched`` when set), or a module whose
import registers the name. See docs/reward_plugins.md.
"""

from __future__ import annotations

import importlib.metadata
import logging
import types

from rewards.spec import RewardSpec, register_reward, registered_spec

ENTRY_POINT_GROUP = "vrft.rewards"
log = logging.getLogger(__name__)


class RewardPluginError(ImportError):
    """A ``vrft.rewards`` entry point that could not be imported or did not provide its reward."""


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def plugin_names() -> list[str]:
    """Names of the installed ``vrft.rewards`` entry points (nothing is imported)."""
    return sorted({ep.name for ep in _entry_points()})


def _describe(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    where = f" from distribution {dist.name!r}" if dist is not None and getattr(dist, "name", None) else ""
    return f"entry point {ep.name!r} = {ep.value!r} (group {ENTRY_POINT_GROUP!r}{where})"


def _load(ep: importlib.metadata.EntryPoint) -> None:
    try:
        obj = ep.load()
    except Exception as e:  # any import-time failure of third-party code
        raise RewardPluginError(f"reward plugin {_describe(ep)} failed to import: "
                                f"{type(e).__name__}: {e}") from e
    existing = registered_spec(ep.name)
    if existing is not None:
        if _provided_by(existing, ep) or existing.fn is obj or getattr(obj, "reward_spec", None) is existing:
            return
        raise RewardPluginError(f"reward plugin {_describe(ep)} provides {ep.name!r}, which is already "
                                f"registered by {existing.module}; rename the entry point")
    if isinstance(obj, types.ModuleType):
        raise RewardPluginError(f"reward plugin {_describe(ep)} imported module {obj.__name__!r}, "
                                f"but it did not register a reward named {ep.name!r}")
    if not callable(obj):
        raise RewardPluginError(f"reward plugin {_describe(ep)} points at {type(obj).__name__}, "
                                f"not a reward function")
    spec = getattr(obj, "reward_spec", None)
    if isinstance(spec, RewardSpec):  # decorated under another name: alias it
        register_reward(ep.name, batched=spec.batched, score_range=spec.score_range,
                                 description=spec.doc, uses_components=spec.uses_components)(spec.fn)
        return
    register_reward(ep.name, batched=bool(getattr(obj, "reward_batched", False)),
                             score_range=tuple(getattr(obj, "reward_range", (0.0, 1.0))))(obj)


def _provided_by(spec: RewardSpec, ep: importlib.metadata.EntryPoint) -> bool:
    return spec.module == ep.module or spec.module.startswith(ep.module + ".")


def load_plugin(name: str) -> bool:
    """Load the entry point called ``name``; False when no installed plugin provides it."""
    for ep in _entry_points():
        if ep.name == name:
            _load(ep)
            return True
    return False


def load_all_plugins(*, on_error: str = "raise") -> list[RewardPluginError]:
    """Load every installed plugin not yet registered. ``on_error="collect"`` returns the errors
    (each naming its entry point) instead of raising the first one."""
    if on_error not in ("raise", "collect"):
        raise ValueError(f"on_error must be 'raise' or 'collect', got {on_error!r}")
    errors: list[RewardPluginError] = []
    for ep in _entry_points():
        existing = registered_spec(ep.name)
        if existing is not None and _provided_by(existing, ep):
            continue
        try:
            _load(ep)
        except RewardPluginError as e:
            if on_error == "raise":
                raise
            log.warning("%s", e)
            errors.append(e)
    return errors
