"""The one generic name -> object registry: rewards, tools, loaders, advantages, losses, strategies, ...

``ADVANTAGES = Registry("advantage estimator")``; ``@ADVANTAGES.register("grpo")`` adds a function,
``TOOLS.register("zoom_in", spec)`` adds an object directly, and ``ADVANTAGES.get("gpro")`` raises
an error that names the closest valid name and lists them all::

    unknown advantage estimator 'gpro' (did you mean 'grpo'?); valid names: ['batch_std', 'grpo', ...]

It lives in ``rewards`` (the lowest layer, no dependencies) because ``rewards`` may import nothing of
``vrft``; :mod:`vrft.registry` re-exports it for the engine.
"""

from __future__ import annotations

import difflib
from typing import Any, Callable, Generic, Iterator, TypeVar

T = TypeVar("T")
_NOTHING: Any = object()


class Registry(Generic[T]):
    """Objects registered by name.

    ``kind`` names one entry in messages ("tool"); ``plural`` names the list of valid names
    ("valid tools: [...]", default "valid names"); ``error`` is the exception type of an unknown name
    (called with the message; a ValueError by default).
    """

    def __init__(self, kind: str, *, plural: str = "names",
                 error: Callable[[str], Exception] = ValueError) -> None:
        self.kind = kind
        self.plural = plural
        self.error = error
        self._items: dict[str, T] = {}

    def register(self, name: str, obj: T = _NOTHING, *, override: bool = False) -> Any:
        """``register(name, obj)`` adds ``obj`` and returns it; ``register(name)`` is a decorator doing
        the same. A taken name is an error unless ``override=True`` (for plugins that deliberately
        replace a built-in)."""
        if obj is not _NOTHING:
            return self._add(name, obj, override)
        return lambda fn: self._add(name, fn, override)

    def _add(self, name: str, obj: T, override: bool) -> T:
        if name in self._items and not override:
            raise ValueError(f"{self.kind} {name!r} is already registered (pass override=True to replace it)")
        self._items[name] = obj
        return obj

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for tests and notebooks); unknown names are ignored."""
        self._items.pop(name, None)

    def get(self, name: str) -> T:
        """The object registered under ``name``; the error names the closest one and lists them all."""
        try:
            return self._items[name]
        except (KeyError, TypeError):  # TypeError: an unhashable name from a config
            raise self.error(self.unknown_message(name)) from None

    def find(self, name: str) -> T | None:
        """The object registered under ``name``, or None."""
        try:
            return self._items.get(name)
        except TypeError:
            return None

    def unknown_message(self, name: Any, extra_names: tuple[str, ...] = ()) -> str:
        """The text of the unknown-name error (``extra_names``: valid names not registered yet)."""
        valid = sorted(set(self._items) | set(extra_names))
        close = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown {self.kind} {name!r}{hint}; valid {self.plural}: {valid}"

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        """(name, object) pairs sorted by name."""
        return sorted(self._items.items())

    def __contains__(self, name: object) -> bool:
        try:
            return name in self._items
        except TypeError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
