"""The default system prompt describing the enabled tools (Qwen's function-calling layout).

Used when a dataset's ``tools.system_prompt`` is None. Coordinates are described in the policy's
own output frame, so the model zooms with the same numbers it answers with.
"""

from __future__ import annotations

import json

from vrft.data.templates import FRAME_PHRASES
from vrft.tools.registry import get_tool

INTRO = "You are a helpful assistant."
HOW_TO_CALL = (
    "You may call the tools below to look at the image or video more closely before answering.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{tools}\n</tools>\n\n"
    "For each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{{"name": <function-name>, "arguments": <args-json-object>}}\n</tool_call>\n'
    "Call one tool per turn and wait for its result. When you know the answer, reply without a tool call."
)


def tool_signature(name: str, output_frame: str) -> dict:
    spec = get_tool(name)
    description = spec.description.replace("{frame}", FRAME_PHRASES.get(output_frame, output_frame))
    return {"type": "function", "function": {"name": spec.name, "description": description,
                                             "parameters": spec.parameters}}


def default_system_prompt(tool_names: list[str], output_frame: str) -> str:
    """The system prompt for ``tool_names`` (in order); just ``INTRO`` when there are none."""
    if not tool_names:
        return INTRO
    tools = "\n".join(json.dumps(tool_signature(n, output_frame), ensure_ascii=False) for n in tool_names)
    return f"{INTRO}\n\n# Tools\n\n" + HOW_TO_CALL.format(tools=tools)


def tools_system_prompt(system_prompt: str | None, tool_names: list[str], output_frame: str) -> str | None:
    """A dataset's system prompt: its own text, else the default for its tools (None without tools)."""
    if system_prompt is not None:
        return system_prompt
    return default_system_prompt(tool_names, output_frame) if tool_names else None
