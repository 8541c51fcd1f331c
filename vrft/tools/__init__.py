"""Tools the policy can call mid-rollout ("thinking with images"): the registry, the built-in zoom
tools, the tool-call parser and the multi-turn rollout loop. See docs/tools.md."""

from vrft.tools.backend import HFBackend, ScriptedBackend, TurnBackend, TurnRequest
from vrft.tools.loop import (
    ToolEpisode, collect_tool_rollout, collect_tool_rollouts, episode_for_prompt, prepare_episode, run_tool_loop,
    trajectory_inputs, trajectory_logprobs, trajectory_reward_context, vision_settings_for,
)
from vrft.tools.parse import ToolCallError, parse_tool_call
from vrft.tools.prompts import default_system_prompt, tools_system_prompt
from vrft.tools.registry import (
    TOOLS, ToolSpec, UnknownToolError, check_tools, get_tool, list_tools, register_tool,
)
from vrft.tools import zoom  # noqa: F401,E402  (registers the built-in tools zoom_in, zoom_in_video)
from vrft.tools.runner import run_tool_call
from vrft.tools.trajectory import FINISH_REASONS, Trajectory
from vrft.tools.types import Observation, ToolContext, ToolError

__all__ = [
    "FINISH_REASONS", "HFBackend", "Observation", "ScriptedBackend", "ToolCallError", "ToolContext", "ToolEpisode",
    "TOOLS", "ToolError", "ToolSpec", "Trajectory", "TurnBackend", "TurnRequest", "UnknownToolError", "check_tools",
    "collect_tool_rollout", "collect_tool_rollouts", "default_system_prompt", "episode_for_prompt", "get_tool",
    "list_tools", "parse_tool_call", "prepare_episode", "register_tool", "run_tool_call", "run_tool_loop",
    "tools_system_prompt", "trajectory_inputs", "trajectory_logprobs", "trajectory_reward_context",
    "vision_settings_for",
]
