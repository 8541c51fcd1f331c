"""The reward registry: ``@register_reward(name)``, ``get_reward(name)``, ``list_rewards()``.

A reward is a plain function called once per completion::

    @register_reward("my_reward", score_range=(0.0, 1.0))
    def my_reward(completion: str, ctx: RewardContext, **kwargs) -> float | RewardResult: ...

or, with ``batched=True``, once per batch: ``fn(completions, ctxs, **kwargs) -> list[...]``.
Its range is part of the registry metadata (shown by ``vrft rewards list``) and of its docstring.
Rewards of external packages are found through the ``vrft.rewards`` entry-point group (see
:mod:`rewards.plugins`); they load lazily, the first time their name is looked up or listed.

Layout: :mod:`rewards.spec` holds RewardSpec and the table (``REWARDS``, a
:class:`rewards.name_registry.Registry`); :mod:`rewards.plugins` registers into it; this module, above
both, is the lookup that loads plugins. Hence no import cycle between registry and plugins.
"""

from __future__ import annotations

from rewards import plugins
from rewards.spec import (
    REWARDS, RewardSpec, UnknownRewardError, as_result, is_registered, register_reward, registered_spec,
    unregister_reward,
)

__all__ = [
    "REWARDS", "RewardSpec", "UnknownRewardError", "as_result", "get_reward", "is_registered", "list_rewards",
    "register_reward", "registered_spec", "unregister_reward",
]


def get_reward(name: str) -> RewardSpec:
    """The :class:`RewardSpec` registered under ``name``, loading a plugin that provides it if needed.

    Raises :class:`UnknownRewardError` naming the closest name and listing the registered ones, or
    :class:`rewards.plugins.RewardPluginError` when the plugin providing ``name`` fails to import.
    """
    spec = REWARDS.find(name)
    if spec is not None:
        return spec
    if plugins.load_plugin(name):
        spec = REWARDS.find(name)
        if spec is not None:
            return spec
    raise UnknownRewardError(REWARDS.unknown_message(name, extra_names=tuple(plugins.plugin_names())))


def list_rewards(*, load_plugins: bool = True) -> list[RewardSpec]:
    """All registered rewards sorted by name; installed plugins are loaded first unless told not to."""
    if load_plugins:
        plugins.load_all_plugins()
    return [spec for _, spec in REWARDS.items()]
