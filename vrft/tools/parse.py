"""Parse a Qwen-style tool call out of untrusted model text. Never raises, never evaluates.

    <tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [10, 20, 300, 400]}}</tool_call>

Only the first ``<tool_call>`` block counts (generation stops at its closing tag). The body must be
one JSON object with a string ``name`` and an object ``arguments`` (a JSON string holding an object
is accepted too, as some chat formats write it). A ```json fence inside the tags is tolerated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"
MAX_TEXT_CHARS = 65_536
MAX_BODY_CHARS = 4_096


@dataclass(frozen=True)
class ToolCallError:
    """Why a tool call could not be parsed (shown to the model), and the tool name when it was read."""

    message: str
    name: str = ""
    arguments: dict[str, Any] | None = None


def has_tool_call(text: str) -> bool:
    """Whether an assistant turn asks for a tool (an opening or closing tag)."""
    return TOOL_CALL_OPEN in text or TOOL_CALL_CLOSE in text


def parse_tool_call(text: str) -> tuple[str, dict[str, Any]] | ToolCallError:
    """``(name, arguments)`` of the first tool call in ``text``, or a :class:`ToolCallError`."""
    if not isinstance(text, str):
        return ToolCallError("no tool call: the turn is not text")
    text = text[:MAX_TEXT_CHARS]
    start = text.find(TOOL_CALL_OPEN)
    if start < 0:
        return ToolCallError(f"no {TOOL_CALL_OPEN} found; write {TOOL_CALL_OPEN}"
                             '{"name": ..., "arguments": {...}}' + TOOL_CALL_CLOSE)
    start += len(TOOL_CALL_OPEN)
    end = text.find(TOOL_CALL_CLOSE, start)
    if end < 0:
        return ToolCallError(f"the tool call has no closing {TOOL_CALL_CLOSE}")
    body = text[start:end].strip()
    if len(body) > MAX_BODY_CHARS:
        return ToolCallError(f"the tool call is too long ({len(body)} characters; at most {MAX_BODY_CHARS})")
    if body.startswith("```"):
        body = body[3:]
        body = body[4:] if body[:4].lower() == "json" else body
        body = body[:-3] if body.endswith("```") else body
        body = body.strip()
    if not body:
        return ToolCallError("the tool call is empty")
    obj = _loads(body)
    if isinstance(obj, ToolCallError):
        return obj
    if not isinstance(obj, dict):
        return ToolCallError('the tool call must be a JSON object {"name": ..., "arguments": {...}}, '
                             f"got a JSON {type(obj).__name__}")
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        return ToolCallError('the tool call has no "name" (a string)')
    name = name.strip()
    if "arguments" not in obj:
        return ToolCallError(f'the call to {name!r} has no "arguments" object', name=name)
    args = obj["arguments"]
    if isinstance(args, str):
        args = _loads(args)
        if isinstance(args, ToolCallError):
            return ToolCallError(f'the "arguments" of {name!r} are {args.message}', name=name)
    if not isinstance(args, dict):
        return ToolCallError(f'the "arguments" of {name!r} must be a JSON object', name=name)
    extra = sorted(set(obj) - {"name", "arguments"})
    if extra:
        return ToolCallError(f"unexpected keys {extra} in the tool call (only name and arguments)",
                             name=name, arguments=args)
    return name, args


def _loads(body: str) -> Any:
    try:
        return json.loads(body)
    except RecursionError:
        return ToolCallError("not valid JSON (nested too deeply)")
    except ValueError as exc:  # JSONDecodeError, and integers with too many digits
        return ToolCallError(f"not valid JSON ({str(exc)[:120]})")
