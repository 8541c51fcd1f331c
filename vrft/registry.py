"""The one generic name -> object registry: advantages, losses, KL estimators, tasks, backends, ...

``ADVANTAGES = Registry("advantage estimator")``; ``@ADVANTAGES.register("grpo")`` adds a function and
``ADVANTAGES.get("gpro")`` raises a ValueError that lists the valid names (and the closest one).
"""

from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterator, TypeVar

F = TypeVar("F", bound=Callable)


class Registry(Generic[F]):
    """Functions registered by name; ``kind`` names the family in error messages."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._fns: dict[str, F] = {}

    def register(self, name: str, *, override: bool = False) -> Callable[[F], F]:
        """Decorator registering ``fn`` under ``name``; registering a taken name is an error unless
        ``override=True`` (for plugins that deliberately replace a built-in)."""

        def deco(fn: F) -> F:
            if name in self._fns and not override:
                raise ValueError(f"{self.kind} {name!r} is already registered "
                                 f"(pass override=True to replace it)")
            self._fns[name] = fn
            return fn

        return deco

    def get(self, name: str) -> F:
        """The function registered under ``name``; the error lists the valid names."""
        try:
            return self._fns[name]
        except KeyError:
            close = difflib.get_close_matches(str(name), list(self._fns), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown {self.kind} {name!r}{hint}; valid names: {self.names()}") from None

    def names(self) -> list[str]:
        return sorted(self._fns)

    def __contains__(self, name: object) -> bool:
        return name in self._fns

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
