"""A byte-bounded LRU cache of decoded, resized media.

The G rollouts of a group, their log-prob pass and the tool loop all ask for the same media; the
cache makes sure each file is decoded and resized once. Keys include the file's mtime and size so
a file rewritten on disk is decoded again.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Callable


class MediaCache:
    def __init__(self, max_bytes: int = 512 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(kind: str, path: Any, *settings: Any) -> tuple | None:
        """A cache key for a file; None (do not cache) for in-memory media, whose identity can't be
        told apart from a later object at the same address."""
        if isinstance(path, str) and os.path.exists(path):
            st = os.stat(path)
            return (kind, path, st.st_mtime_ns, st.st_size, settings)
        return None

    def get_or_load(self, key: tuple | None, load: Callable[[], Any]) -> Any:
        if key is None:
            return load()
        if key in self._items:
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key][0]
        self.misses += 1
        value = load()
        size = int(getattr(value, "nbytes", 0))
        if size <= self.max_bytes:
            self._items[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, old) = self._items.popitem(last=False)
                self.bytes -= old
        return value

    def __len__(self) -> int:
        return len(self._items)
