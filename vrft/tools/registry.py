"""The tool registry: ``@register_tool(name, ...)``, ``get_tool(name)``, ``list_tools()``.

A tool is a plain function ``fn(arguments: dict, ctx: ToolContext) -> Observation``. It validates
its own arguments and raises :class:`~vrft.tools.types.ToolError` (or returns
``Observation.failure``) for a bad call; the loop turns that into an error observation for the
model. The description and JSON-schema parameters go into the default system prompt::

    @register_tool("rotate", description="Rotate an image by 90 degree steps.",
                   parameters={"type": "object", "properties": {"k": {"type": "integer"}}, "required": ["k"]})
    def rotate(arguments, ctx): ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from vrft.registry import Registry
from vrft.tools.types import Observation, ToolContext

ToolFn = Callable[[dict, ToolContext], Observation]


class UnknownToolError(ValueError):
    """A tool name nobody registered (in a config; a model's unknown call is an error observation)."""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    fn: ToolFn
    description: str
    """Shown to the model; ``{frame}`` is replaced by how the policy gives coordinates."""
    parameters: dict[str, Any] = field(default_factory=dict)
    """JSON schema of the arguments (shown to the model)."""

    def __call__(self, arguments: dict, ctx: ToolContext) -> Observation:
        return self.fn(arguments, ctx)


TOOLS: Registry[ToolSpec] = Registry("tool", plural="tools", error=UnknownToolError)
"""Every registered tool; the built-ins (``zoom_in``, ``zoom_in_video``) are registered by
:mod:`vrft.tools.zoom`, which the ``vrft.tools`` package imports."""


def register_tool(name: str, *, description: str, parameters: dict[str, Any] | None = None,
                  override: bool = False) -> Callable[[ToolFn], ToolFn]:
    """Decorator registering a tool under ``name`` (a taken name needs ``override=True``)."""

    def deco(fn: ToolFn) -> ToolFn:
        TOOLS.register(name, ToolSpec(name, fn, description, dict(parameters or {})), override=override)
        return fn

    return deco


def get_tool(name: str) -> ToolSpec:
    """The tool registered as ``name``; the error lists the valid names."""
    return TOOLS.get(name)


def list_tools() -> list[str]:
    return TOOLS.names()


def check_tools(names: list[str]) -> list[ToolSpec]:
    """Specs of `names` (e.g. a dataset's ``tools.enabled``); UnknownToolError for the first unknown."""
    return [get_tool(n) for n in names]
