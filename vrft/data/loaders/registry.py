"""The loader registry: ``@register_loader("refcoco", tasks=("grounding",))`` and ``get_loader(name)``.

A loader is ``load(path, media_root, dataset_name, task, **opts) -> LoadResult``. Its keyword-only
parameters are its options (``loader_opts`` in a dataset config), so a typo in an option is caught
when the config is read, not half-way through loading.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

from vrft.data.problems import LoadResult
from vrft.registry import Registry

LoaderFn = Callable[..., LoadResult]


@dataclass(frozen=True)
class LoaderSpec:
    """A registered loader: its function, the tasks it can produce (the first is the default; empty
    when each row names its task) and which options are file paths (resolved relative to the config
    file like ``files``)."""

    name: str
    fn: LoaderFn
    tasks: tuple[str, ...]
    path_opts: tuple[str, ...] = ()

    @property
    def default_task(self) -> str | None:
        return self.tasks[0] if self.tasks else None

    @property
    def options(self) -> dict[str, Any]:
        """Option name -> default value (keyword-only parameters of the loader function)."""
        sig = inspect.signature(self.fn)
        return {
            n: p.default
            for n, p in sig.parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }

    def __call__(self, path: str, media_root: str, dataset_name: str, task: str | None = None,
                 **opts: Any) -> LoadResult:
        task = task or self.default_task
        if self.tasks and task not in self.tasks:
            raise ValueError(f"loader {self.name!r} cannot produce task {task!r}; it produces {list(self.tasks)}")
        unknown = sorted(set(opts) - set(self.options))
        if unknown:
            raise ValueError(f"loader {self.name!r}: unknown option(s) {unknown}; valid: {sorted(self.options)}")
        return self.fn(path, media_root, dataset_name, task, **opts)


LOADERS: Registry[LoaderSpec] = Registry("dataset format", plural="formats")
"""Every registered format loader (``vrft.data.loaders`` imports the built-in ones)."""


def register_loader(name: str, tasks: tuple[str, ...], path_opts: tuple[str, ...] = ()):
    """Decorator registering a format loader under ``name``."""

    def deco(fn: LoaderFn) -> LoaderFn:
        LOADERS.register(name, LoaderSpec(name=name, fn=fn, tasks=tuple(tasks), path_opts=tuple(path_opts)))
        return fn

    return deco


def get_loader(name: str) -> LoaderSpec:
    """The loader registered under ``name``; the error lists the valid names."""
    return LOADERS.get(name)


def list_loaders() -> list[str]:
    return LOADERS.names()
