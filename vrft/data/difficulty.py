"""Per-prompt difficulty tracking to skip prompts whose rollouts would teach nothing (MoPPS-style).

After a prompt's group of G rollouts is scored, its success rate gets a Beta(alpha, beta) posterior
update with decay toward the prior, as in MoPPS (Qu et al. 2025, "Can Prompt Difficulty be Online
Predicted for Accelerating RL Finetuning of Reasoning Models?", arXiv 2507.04632):

    alpha <- decay * alpha + (1 - decay) * alpha0 + successes
    beta  <- decay * beta  + (1 - decay) * beta0  + failures

A group that is all-solved or all-failed has zero GRPO advantage, so its rollouts are wasted.
``should_skip(id)`` is True when the posterior mean is above ``hi`` or below ``lo`` with at least
``min_evidence`` effective observations. Departure from MoPPS: instead of Thompson-sampling a batch
closest to a target rate, the sampler draws as usual and skips predicted-useless prompts, and a
skipped prompt is kept anyway with probability ``explore_prob`` so the estimate can recover.

Determinism across ranks: the exploration draws come from this tracker's own seeded generator, so
ranks that apply the same updates and ask the same questions in the same order agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np


@dataclass
class DifficultyConfig:
    """Settings of the ``difficulty`` block of a mixture config."""

    enabled: bool = False
    """Skip prompts predicted all-solved / all-failed."""
    threshold: float = 0.5
    """A rollout counts as a success when its reward is >= threshold (unless ``fractional``)."""
    fractional: bool = False
    """Count each rollout as a fractional success, its reward clipped to [0, 1]."""
    lo: float = 0.05
    """Skip when the predicted success rate is below this (too hard)."""
    hi: float = 0.95
    """Skip when the predicted success rate is above this (already solved)."""
    min_evidence: float = 8.0
    """Effective observations (alpha + beta minus the prior's) needed before a prompt may be skipped."""
    decay: float = 0.9
    """How much of the old posterior survives an update (1 = no forgetting)."""
    prior_alpha: float = 1.0
    """Prior pseudo-successes."""
    prior_beta: float = 1.0
    """Prior pseudo-failures."""
    explore_prob: float = 0.1
    """Chance that a prompt which would be skipped is kept anyway (so its estimate can recover)."""
    seed: int = 0
    """Seed of the exploration draws."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.lo < self.hi <= 1.0:
            raise ValueError(f"difficulty: need 0 <= lo < hi <= 1, got lo={self.lo}, hi={self.hi}")
        for key in ("decay", "explore_prob"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"difficulty.{key}: must be in [0, 1], got {getattr(self, key)}")
        if self.prior_alpha <= 0 or self.prior_beta <= 0:
            raise ValueError("difficulty.prior_alpha / prior_beta: must be > 0")
        if self.min_evidence < 0:
            raise ValueError(f"difficulty.min_evidence: must be >= 0, got {self.min_evidence}")


class DifficultyTracker:
    """Beta posteriors of per-prompt success rates, skip decisions and their counters."""

    def __init__(self, config: DifficultyConfig | None = None):
        self.config = config or DifficultyConfig()
        self.rng = np.random.default_rng(self.config.seed)
        self.posteriors: dict[str, list[float]] = {}  # id -> [alpha, beta, last group size]
        self.skipped = 0
        self.explored = 0
        self.rollouts_saved = 0

    def update(self, prompt_id: str, rewards: Sequence[float]) -> None:
        """Fold one group's rewards into the prompt's posterior."""
        c = self.config
        r = np.asarray(rewards, dtype=np.float64)
        r = r[np.isfinite(r)]
        if r.size == 0:
            return
        successes = float(np.clip(r, 0.0, 1.0).sum()) if c.fractional else float((r >= c.threshold).sum())
        a, b, _ = self.posteriors.get(prompt_id, [c.prior_alpha, c.prior_beta, 0])
        a = c.decay * a + (1 - c.decay) * c.prior_alpha + successes
        b = c.decay * b + (1 - c.decay) * c.prior_beta + (r.size - successes)
        self.posteriors[prompt_id] = [a, b, int(r.size)]

    def predicted_success(self, prompt_id: str) -> float | None:
        """Posterior mean success rate, or None for a prompt never seen."""
        if prompt_id not in self.posteriors:
            return None
        a, b, _ = self.posteriors[prompt_id]
        return a / (a + b)

    def evidence(self, prompt_id: str) -> float:
        if prompt_id not in self.posteriors:
            return 0.0
        a, b, _ = self.posteriors[prompt_id]
        return a + b - self.config.prior_alpha - self.config.prior_beta

    def should_skip(self, prompt_id: str) -> bool:
        """True when the prompt is predicted all-solved or all-failed with enough evidence (and the
        exploration draw did not keep it). Counts skips and the rollouts they save."""
        c = self.config
        p = self.predicted_success(prompt_id)
        if not c.enabled or p is None or self.evidence(prompt_id) < c.min_evidence or c.lo <= p <= c.hi:
            return False
        if self.rng.random() < c.explore_prob:
            self.explored += 1
            return False
        self.skipped += 1
        self.rollouts_saved += int(self.posteriors[prompt_id][2])
        return True

    def metrics(self) -> dict[str, float]:
        return {
            "difficulty/skipped": float(self.skipped),
            "difficulty/explored": float(self.explored),
            "difficulty/rollouts_saved": float(self.rollouts_saved),
            "difficulty/tracked_prompts": float(len(self.posteriors)),
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            "posteriors": {k: list(v) for k, v in self.posteriors.items()},
            "rng": self.rng.bit_generator.state,
            "skipped": self.skipped, "explored": self.explored, "rollouts_saved": self.rollouts_saved,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.posteriors = {k: [float(v[0]), float(v[1]), int(v[2])] for k, v in state["posteriors"].items()}
        self.rng.bit_generator.state = state["rng"]
        self.skipped, self.explored = int(state["skipped"]), int(state["explored"])
        self.rollouts_saved = int(state["rollouts_saved"])
