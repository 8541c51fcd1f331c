"""Everything the training loop needs from the data side, in one object.

    data = MixtureData.build("datasets_cfg/demo.yaml", batch_size=P, seed=0, rank=r, world_size=W)
    for step in ...:
        prompts = data.next_batch()            # this rank's P / W Samples
        ...rollouts, rewards, advantages (gathered over ranks)...
        data.observe(groups)                   # [(sample, rewards_G, advantages_G), ...] of the global batch
        state = data.state_dict()              # into the checkpoint

``observe`` must see the same (global) groups on every rank, so that the difficulty posteriors, the
mixture weights and hence the next draws agree everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from vrft.data.difficulty import DifficultyTracker
from vrft.data.load import LoadedDataset, load_datasets
from vrft.data.mixture_config import MixtureConfig, load_mixture_config
from vrft.data.mixture_learning import DatasetStepStats, MixtureStrategy, build_strategy
from vrft.data.mixture_sampler import MixtureSampler
from vrft.data.sample import Sample


def step_stats(groups: Sequence[tuple[Sample, Sequence[float], Sequence[float]]]) -> dict[str, DatasetStepStats]:
    """Per-dataset stats of one step from (sample, group rewards, group advantages) triples."""
    by: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for sample, rewards, advantages in groups:
        by.setdefault(sample.dataset, []).append((np.asarray(rewards, float), np.asarray(advantages, float)))
    out = {}
    for name, items in by.items():
        r = np.concatenate([x for x, _ in items])
        a = np.concatenate([y for _, y in items])
        out[name] = DatasetStepStats(
            mean_abs_advantage=float(np.abs(a).mean()) if a.size else 0.0,
            reward_mean=float(r.mean()) if r.size else 0.0,
            reward_var=float(np.mean([x.var() for x, _ in items if x.size])) if r.size else 0.0,
            n=int(r.size),
        )
    return out


@dataclass
class MixtureData:
    """Loaded datasets + sampler + mixture strategy + difficulty tracker."""

    config: MixtureConfig
    datasets: dict[str, LoadedDataset]
    sampler: MixtureSampler
    strategy: MixtureStrategy
    difficulty: DifficultyTracker
    steps: int = 0

    @classmethod
    def build(cls, config: MixtureConfig | str, batch_size: int, seed: int = 0, rank: int = 0,
              world_size: int = 1, datasets: dict[str, LoadedDataset] | None = None) -> "MixtureData":
        cfg = load_mixture_config(config) if isinstance(config, str) else config
        datasets = datasets if datasets is not None else load_datasets(cfg)
        names = [d.name for d in cfg.datasets]
        m = cfg.mixture
        strategy = build_strategy(m.strategy, names, [d.weight for d in cfg.datasets], m.floor, m.params)
        sampler = MixtureSampler({n: datasets[n].samples for n in names}, strategy.weights, batch_size,
                                 seed=seed, rank=rank, world_size=world_size)
        return cls(cfg, datasets, sampler, strategy, DifficultyTracker(cfg.difficulty))

    def next_batch(self) -> list[Sample]:
        """This rank's prompts for the next step (prompts predicted useless are skipped)."""
        skip = (lambda s: self.difficulty.should_skip(s.id)) if self.config.difficulty.enabled else None
        return self.sampler.next_batch(skip)

    def observe(self, groups: Sequence[tuple[Sample, Sequence[float], Sequence[float]]]) -> dict[str, float]:
        """Feed one step's scored groups (global batch); returns metrics (weights, difficulty)."""
        for sample, rewards, _ in groups:
            self.difficulty.update(sample.id, rewards)
        self.steps += 1
        if self.steps % self.config.mixture.update_every == 0:
            self.sampler.set_weights(self.strategy.update(step_stats(groups)))
        metrics = {f"mixture/weight/{n}": w for n, w in self.strategy.weights.items()}
        if self.config.difficulty.enabled:
            metrics.update(self.difficulty.metrics())
        return metrics

    def state_dict(self) -> dict[str, Any]:
        return {"sampler": self.sampler.state_dict(), "strategy": self.strategy.state_dict(),
                "difficulty": self.difficulty.state_dict(), "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sampler.load_state_dict(state["sampler"])
        self.strategy.load_state_dict(state["strategy"])
        self.difficulty.load_state_dict(state["difficulty"])
        self.steps = int(state["steps"])
