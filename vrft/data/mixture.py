"""Everything the training loop needs from the data side, in one object.

    data = MixtureData.build("datasets_cfg/demo.yaml", batch_size=P, seed=0, rank=r, world_size=W)
    for step in ...:
        prompts = data.next_batch()            # this rank's P / W Samples (may be called again to refill)
        ...rollouts, rewards, advantages...
        data.observe(outcomes)                 # GroupOutcome of every group drawn this step, on ALL ranks
        state = data.state_dict()              # into the checkpoint

``observe`` must see the same (global) outcomes on every rank, in the same order, so that the
difficulty posteriors, the mixture weights and hence the next draws agree everywhere: the trainer
gathers them over ranks first. Groups that were drawn but not trained (dynamic sampling drops) still
inform difficulty; only trained groups move the mixture weights, which are updated every
``mixture.update_every`` steps from the groups of those steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from vrft.data.difficulty import DifficultyTracker
from vrft.data.load import LoadedDataset, load_datasets
from vrft.data.mixture_config import DatasetConfig, MixtureConfig, load_mixture_config
from vrft.data.mixture_learning import DatasetStepStats, MixtureStrategy, build_strategy
from vrft.data.mixture_sampler import MixtureSampler
from vrft.data.sample import Sample


@dataclass(frozen=True)
class GroupOutcome:
    """What one prompt's group of sampled completions taught (plain data, sent between ranks).

    ``rewards``: every sampled (not injected) completion, errored ones as 0, for difficulty.
    ``scored_rewards`` / ``advantages``: the completions whose reward counted, for mixture learning.
    ``trained``: False for a group drawn and then dropped (dynamic sampling)."""

    dataset: str
    sample_id: str
    rewards: tuple[float, ...]
    scored_rewards: tuple[float, ...] = ()
    advantages: tuple[float, ...] = ()
    trained: bool = True


def step_stats(groups: Sequence[GroupOutcome | tuple[Sample, Sequence[float], Sequence[float]]]
               ) -> dict[str, DatasetStepStats]:
    """Per-dataset stats from group outcomes (or (sample, group rewards, group advantages) triples):
    mean |advantage| and reward mean over completions, mean within-group reward variance."""
    by: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for g in groups:
        if isinstance(g, GroupOutcome):
            name, rewards, advantages = g.dataset, g.scored_rewards, g.advantages
        else:
            name, rewards, advantages = g[0].dataset, g[1], g[2]
        if len(rewards):
            by.setdefault(name, []).append((np.asarray(rewards, float), np.asarray(advantages, float)))
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
    pending: list[GroupOutcome] = field(default_factory=list)  # trained groups since the last weight update
    last_global_ids: list[str] = field(default_factory=list)  # this step's global draws, as this rank saw them

    @classmethod
    def build(cls, config: MixtureConfig | str, batch_size: int, seed: int = 0, rank: int = 0,
              world_size: int = 1, datasets: dict[str, LoadedDataset] | None = None) -> "MixtureData":
        cfg = load_mixture_config(config) if isinstance(config, str) else config
        datasets = datasets if datasets is not None else load_datasets(cfg)
        names = [d.name for d in cfg.datasets]
        m = cfg.mixture
        weights = cfg.weights  # normalised
        strategy = build_strategy(m.strategy, names, [weights[n] for n in names], m.floor, m.params)
        # The first draws follow the configured weights; the strategy's (floored) weights take over
        # at its first update.
        sampler = MixtureSampler({n: datasets[n].samples for n in names}, weights, batch_size,
                                 seed=seed, rank=rank, world_size=world_size)
        return cls(cfg, datasets, sampler, strategy, DifficultyTracker(cfg.difficulty))

    @property
    def names(self) -> list[str]:
        return list(self.sampler.names)

    @property
    def configs(self) -> dict[str, DatasetConfig]:
        """Each dataset's config, by name (what the rollout and the supervised steps read)."""
        return {n: d.config for n, d in self.datasets.items()}

    def next_batch(self) -> list[Sample]:
        """This rank's prompts of the next global draw (prompts predicted useless are skipped)."""
        skip = (lambda s: self.difficulty.should_skip(s.id)) if self.config.difficulty.enabled else None
        pairs = self.sampler.next_global_indices(skip)
        self.last_global_ids.extend(self.sampler.datasets[n][i].id for n, i in pairs)
        return [self.sampler.datasets[n][i] for n, i in self.sampler.shard(pairs)]

    def observe(self, outcomes: Sequence[GroupOutcome]) -> dict[str, float]:
        """Feed every group drawn in one step, over all ranks; returns metrics (weights, difficulty)."""
        for g in outcomes:
            self.difficulty.update(g.sample_id, g.rewards)
        self.pending.extend(g for g in outcomes if g.trained)
        self.steps += 1
        self.last_global_ids = []
        if self.steps % self.config.mixture.update_every == 0:
            stats = step_stats(self.pending)
            if stats:
                self.sampler.set_weights(self.strategy.update(stats))
            self.pending = []
        metrics = {f"mixture/weight/{n}": w for n, w in self.strategy.weights.items()}
        if self.config.difficulty.enabled:
            metrics.update(self.difficulty.metrics())
        return metrics

    def state_dict(self) -> dict[str, Any]:
        return {"sampler": self.sampler.state_dict(), "strategy": self.strategy.state_dict(),
                "difficulty": self.difficulty.state_dict(), "steps": self.steps,
                "pending": [vars(g).copy() for g in self.pending]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sampler.load_state_dict(state["sampler"])
        self.strategy.load_state_dict(state["strategy"])
        self.difficulty.load_state_dict(state["difficulty"])
        self.steps = int(state["steps"])
        self.pending = [GroupOutcome(**g) for g in state.get("pending", [])]
