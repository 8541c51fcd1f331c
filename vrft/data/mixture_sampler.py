"""Draws each step's prompts from several datasets by mixture weights, identically on every rank.

Every rank builds the sampler with the same seed and draws the same *global* batch of P prompts;
rank r keeps the contiguous slice ``[r * P / W, (r + 1) * P / W)``, so ranks get disjoint prompts that
together cover the global batch, with no communication. Within a dataset, prompts are drawn without
replacement in a shuffled order that is reshuffled each epoch of that dataset (the order of epoch e
is a pure function of (seed, dataset index, e)). The state is three small things (the generator that
picks datasets, and each dataset's epoch and position), so ``state_dict()`` resumes the exact stream.

Weights may change between draws (``set_weights``), e.g. from a mixture strategy.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from vrft.data.sample import Sample


class MixtureSampler:
    """``next_batch()`` -> this rank's prompts of the next global batch."""

    def __init__(self, datasets: dict[str, Sequence[Sample]], weights: dict[str, float], batch_size: int,
                 seed: int = 0, rank: int = 0, world_size: int = 1, max_skip_factor: int = 8):
        """``batch_size`` is the global number of prompts per step (P); it must divide by ``world_size``.
        ``max_skip_factor``: with a skip function, give up skipping after P * factor draws."""
        if not datasets:
            raise ValueError("MixtureSampler: no datasets")
        empty = [n for n, d in datasets.items() if len(d) == 0]
        if empty:
            raise ValueError(f"MixtureSampler: dataset(s) {empty} have no samples")
        if batch_size <= 0 or batch_size % world_size:
            raise ValueError(f"global batch size {batch_size} must be a positive multiple of world_size {world_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} not in [0, {world_size})")
        self.names = list(datasets)
        self.datasets = datasets
        self.batch_size, self.seed, self.rank, self.world_size = batch_size, seed, rank, world_size
        self.max_skip_factor = max_skip_factor
        self.rng = np.random.default_rng([seed, 0x5EED])
        self.epoch = {n: 0 for n in self.names}
        self.pos = {n: 0 for n in self.names}
        self._orders: dict[str, tuple[int, np.ndarray]] = {}
        self.steps = 0
        self.set_weights(weights)

    # -- weights ------------------------------------------------------------------------------
    def set_weights(self, weights: dict[str, float]) -> None:
        """New mixture weights (normalised here); every dataset must be named."""
        missing, unknown = set(self.names) - set(weights), set(weights) - set(self.names)
        if missing or unknown:
            raise ValueError(f"weights must name exactly {self.names}; missing {sorted(missing)}, "
                             f"unknown {sorted(unknown)}")
        w = np.array([float(weights[n]) for n in self.names])
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"weights must be finite, >= 0, with a positive sum; got {weights}")
        self.weights = w / w.sum()

    # -- drawing --------------------------------------------------------------------------------
    def _order(self, name: str) -> np.ndarray:
        epoch = self.epoch[name]
        cached = self._orders.get(name)
        if cached is None or cached[0] != epoch:
            rng = np.random.default_rng([self.seed, self.names.index(name), epoch])
            cached = (epoch, rng.permutation(len(self.datasets[name])))
            self._orders[name] = cached
        return cached[1]

    def _take(self, name: str) -> int:
        order = self._order(name)
        index = int(order[self.pos[name]])
        self.pos[name] += 1
        if self.pos[name] == len(order):
            self.epoch[name] += 1
            self.pos[name] = 0
        return index

    def next_global_indices(self, skip: Callable[[Sample], bool] | None = None) -> list[tuple[str, int]]:
        """The next global batch as (dataset, index) pairs; the same on every rank.

        ``skip(sample) -> bool`` (e.g. ``DifficultyTracker.should_skip`` on the id) leaves a drawn
        prompt out and draws another; after ``P * max_skip_factor`` draws no more are skipped. A
        skip function must give the same answers on every rank.
        """
        out: list[tuple[str, int]] = []
        draws = 0
        while len(out) < self.batch_size:
            k = int(self.rng.choice(len(self.names), p=self.weights))
            name = self.names[k]
            index = self._take(name)
            draws += 1
            if skip is not None and draws <= self.batch_size * self.max_skip_factor \
                    and skip(self.datasets[name][index]):
                continue
            out.append((name, index))
        self.steps += 1
        return out

    def shard(self, items: list) -> list:
        """This rank's contiguous slice of a global batch."""
        per = len(items) // self.world_size
        return items[self.rank * per:(self.rank + 1) * per]

    def next_batch(self, skip: Callable[[Sample], bool] | None = None) -> list[Sample]:
        """This rank's P / world_size prompts of the next global batch."""
        return [self.datasets[n][i] for n, i in self.shard(self.next_global_indices(skip))]

    # -- resume -----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names), "sizes": [len(self.datasets[n]) for n in self.names],
            "seed": self.seed, "rng": self.rng.bit_generator.state, "epoch": dict(self.epoch),
            "pos": dict(self.pos), "weights": self.weights.tolist(), "steps": self.steps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        sizes = [len(self.datasets[n]) for n in self.names]
        if state["names"] != self.names or state["sizes"] != sizes or state["seed"] != self.seed:
            raise ValueError(
                f"sampler state is for datasets {state['names']} of sizes {state['sizes']} (seed {state['seed']}), "
                f"not {self.names} of sizes {sizes} (seed {self.seed}); resume with the same data and seed")
        self.rng.bit_generator.state = state["rng"]
        self.epoch, self.pos = dict(state["epoch"]), dict(state["pos"])
        self.weights = np.asarray(state["weights"], dtype=np.float64)
        self.steps = int(state["steps"])
