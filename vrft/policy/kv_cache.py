"""A KV cache that grows in place while decoding.

Hugging Face's dynamic cache appends each step's keys and values with `torch.cat`, which copies the
whole cache every step: for P*G rows decoding T tokens after an L-token prompt that is about
T * (L + T/2) rows' worth of copying per layer. `reserve` gives each layer a buffer with room for the
whole generation; a step then writes its new positions in place and the layer's keys and values are
views of the buffer's filled part. The attention sees the same tensors, so decoding is unchanged
(`tests/perf/test_decoding.py`). For no-grad decoding only (in-place writes).
"""

from __future__ import annotations

import torch
from transformers.cache_utils import DynamicLayer


class ReservedLayer(DynamicLayer):
    """A `DynamicLayer` whose keys and values live in a preallocated buffer."""

    _buf_k: torch.Tensor | None = None
    _buf_v: torch.Tensor | None = None

    def reserve(self, capacity: int) -> None:
        b, h, n, _ = self.keys.shape
        if capacity <= n:
            return
        self._buf_k = self.keys.new_empty((b, h, capacity, self.keys.shape[-1]))
        self._buf_v = self.values.new_empty((b, h, capacity, self.values.shape[-1]))
        self._buf_k[:, :, :n] = self.keys
        self._buf_v[:, :, :n] = self.values
        self.keys, self.values = self._buf_k[:, :, :n], self._buf_v[:, :, :n]

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        buf_k, buf_v = self._buf_k, self._buf_v
        n, m = (self.keys.shape[-2] if self.is_initialized else 0), key_states.shape[-2]
        if (buf_k is None or not self.is_initialized or self.keys.data_ptr() != buf_k.data_ptr()
                or self.keys.shape[:2] != buf_k.shape[:2] or n + m > buf_k.shape[-2]):
            return super().update(key_states, value_states, *args, **kwargs)  # full, or replaced: concatenate
        buf_k[:, :, n:n + m] = key_states
        buf_v[:, :, n:n + m] = value_states
        self.keys, self.values = buf_k[:, :, :n + m], buf_v[:, :, :n + m]
        return self.keys, self.values


def reserve(cache, capacity: int) -> None:
    """Give every filled plain dynamic layer of `cache` room for `capacity` positions (other layer
    kinds, e.g. sliding-window ones, are left as they are). A reserved layer whose rows were since
    selected (a later turn continuing some rows) gets a new buffer."""
    for layer in getattr(cache, "layers", []):
        if type(layer) in (DynamicLayer, ReservedLayer) and layer.is_initialized and layer.keys is not None \
                and layer.keys.numel():
            layer.__class__ = ReservedLayer
            layer.reserve(capacity)
