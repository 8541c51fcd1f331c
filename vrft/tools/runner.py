"""Run one tool call written by the model: parse, look up, call, and record the trace.

Nothing the model writes makes this raise: bad JSON, an unknown or disabled tool, and bad
arguments all come back as an error observation (``Observation.error`` set) with an invalid
:class:`rewards.context.ToolCall`. Bugs in a tool (any other exception) do raise.
"""

from __future__ import annotations

from typing import Sequence

from rewards.context import ToolCall
from vrft.policy.errors import MediaError
from vrft.tools.parse import ToolCallError, parse_tool_call
from vrft.tools.registry import get_tool
from vrft.tools.types import Observation, ToolContext, ToolError


def run_tool_call(text: str, ctx: ToolContext, enabled: Sequence[str]) -> tuple[Observation, ToolCall]:
    """The observation for the tool call in an assistant turn's ``text``, and its trace record."""
    parsed = parse_tool_call(text)
    if isinstance(parsed, ToolCallError):
        return _failed(parsed.name, parsed.arguments or {}, parsed.message)
    name, arguments = parsed
    if name not in enabled:
        valid = ", ".join(enabled) if enabled else "none"
        return _failed(name, arguments, f"unknown tool {name[:60]!r}; available tools: {valid}")
    try:
        obs = get_tool(name)(arguments, ctx)
    except ToolError as exc:
        obs = Observation.failure(f"{name}: {exc}")
    except MediaError as exc:  # the media exists (the prompt used it) but this part cannot be read
        obs = Observation.failure(f"{name}: cannot read the requested part ({exc.reason})")
    call = ToolCall(name=name, arguments=arguments, valid=obs.error is None, error=obs.error, result=dict(obs.result))
    return obs, call


def _failed(name: str, arguments: dict, message: str) -> tuple[Observation, ToolCall]:
    return Observation.failure(message), ToolCall(name=name, arguments=arguments, valid=False, error=message)
