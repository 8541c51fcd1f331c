"""Verifiable rewards for visual RFT: a registry, built-in rewards and their shared parsing and geometry.

``import rewards`` registers the built-ins (no torch import). The public API:

- registry: :func:`register_reward`, :func:`get_reward`, :func:`list_rewards` (plugins through the
  ``vrft.rewards`` entry-point group, see docs/reward_plugins.md);
- composite rewards and the engine's runner: :class:`CompositeReward`, :class:`RewardRunner`,
  :class:`RunnerConfig`, :class:`BatchScores`, :class:`RewardErrorRateExceeded`;
- parsers used by rewards, evaluation and the tool loop: :mod:`rewards.parsing`,
  :mod:`rewards.parse_spatial`, :mod:`rewards.parse_temporal`, :mod:`rewards.parse_gui`,
  :mod:`rewards.parse_text`, :mod:`rewards.numbers`; geometry in :mod:`rewards.geometry`.
"""

from rewards.context import RewardContext, RewardResult, ToolCall, VideoInfo
from rewards.frames import ImageFrame
from rewards.parsing import ParseError
from rewards.plugins import RewardPluginError
from rewards.registry import (RewardSpec, UnknownRewardError, get_reward, list_rewards, register_reward,
                              unregister_reward)
from rewards import builtin  # noqa: E402,F401  (registers the built-in rewards)
from rewards.composite import CompositeReward, RewardComputationError
from rewards.runner import (BatchScores, RewardErrorRateExceeded, RewardRunner, RunnerConfig,
                            score_batch)

__all__ = [
    "BatchScores", "CompositeReward", "ImageFrame", "ParseError", "RewardComputationError", "RewardContext",
    "RewardErrorRateExceeded", "RewardPluginError", "RewardResult", "RewardRunner", "RewardSpec",
    "RunnerConfig", "ToolCall", "UnknownRewardError", "VideoInfo", "get_reward", "list_rewards",
    "register_reward", "score_batch", "unregister_reward",
]
