"""The one generic name -> object registry (did-you-mean errors) that every vrft registry uses.

The implementation lives in :mod:`rewards.name_registry`: the ``rewards`` package is the lowest
layer and may import nothing of ``vrft`` (docs/architecture.md), yet its reward registry is one of
the users, so the class sits there and the engine imports it from here.
"""

from rewards.name_registry import Registry

__all__ = ["Registry"]
