"""Tools the policy can call mid-rollout ("thinking with images"): the registry, the built-in zoom
tools and the tool-call parser. The turn loop that runs them is :mod:`vrft.rollout`. See docs/tools.md."""

from vrft.tools.parse import ToolCallError, parse_tool_call
from vrft.tools.prompts import default_system_prompt, tools_system_prompt
from vrft.tools.registry import (
    TOOLS, ToolSpec, UnknownToolError, check_tools, get_tool, list_tools, register_tool,
)
from vrft.tools import zoom  # noqa: F401,E402  (registers the built-in tools zoom_in, zoom_in_video)
from vrft.tools.runner import run_tool_call
from vrft.tools.types import Observation, ToolContext, ToolError

__all__ = [
    "Observation", "TOOLS", "ToolCallError", "ToolContext", "ToolError", "ToolSpec", "UnknownToolError",
    "check_tools", "default_system_prompt", "get_tool", "list_tools", "parse_tool_call", "register_tool",
    "run_tool_call", "tools_system_prompt",
]
