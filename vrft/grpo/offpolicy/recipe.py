"""What the trainer asks of the off-policy machinery, one hook per phase of a step:

- :meth:`OffPolicy.advantages`: the estimator over the sampled rows only (expert rows out of every
  group statistic), then each expert row's advantage by the configured rule; or, with
  ``group_baseline: mixed``, the estimator over every row, expert rows included;
- :meth:`OffPolicy.behaviour_logps`: each row's behaviour log-probs for the ratio (the stored ones
  for ``old`` rows);
- :meth:`OffPolicy.update_fields`: the objective's settings for this step (form, gamma, CHORD's mu).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from vrft.grpo.advantages import advantages_over_ranks
from vrft.grpo.offpolicy.advantage import get_expert_advantage
from vrft.grpo.offpolicy.objective import chord_mu, get_expert_form
from vrft.rollout.batch import EXPERT, OLD, RolloutBatch


def expert_mask(batch: RolloutBatch) -> Tensor:
    """(B,) bool: the rows written by an expert."""
    return torch.tensor([b == EXPERT for b in batch.behaviour], dtype=torch.bool)


def behaviour_logps(batch: RolloutBatch, current: list[Tensor] | None) -> list[Tensor] | None:
    """Per row, the log-probs its ratio is taken against: the stored behaviour log-probs of an
    ``old`` row, else ``current`` (the policy's own before the update; None: on-policy)."""
    old_rows = [i for i, b in enumerate(batch.behaviour) if b == OLD]
    if not old_rows:
        return current
    out = list(current) if current is not None else [None] * len(batch.behaviour)
    for i in old_rows:
        stored = batch.behaviour_logprobs[i] if batch.behaviour_logprobs else None
        if stored is None:
            raise ValueError(f"row {i} is an 'old' row without stored behaviour log-probs")
        out[i] = stored
    return out


class OffPolicy:
    """The off-policy hooks of one run, from ``cfg.algo`` (names checked here, before any model)."""

    def __init__(self, algo) -> None:
        self.algo = algo
        self.cfg = algo.offpolicy
        self.form = get_expert_form(self.cfg.expert_form)
        self.expert_rule = get_expert_advantage(self.cfg.expert_advantage)

    def advantages(self, batch: RolloutBatch, rewards_B: Tensor, *, rank: int, groups_per_rank: list[int],
                   reduce_sum: Callable[[Tensor], Tensor]) -> tuple[Tensor, dict, Tensor]:
        """(advantages to train on, metrics, the sampled rows' own advantages, which the mixture
        learner reads: they never see an expert row, whatever the baseline)."""
        expert_B = expert_mask(batch)
        sampled_B = batch.valid.bool() & ~expert_B
        kw = dict(rank=rank, groups_per_rank=groups_per_rank, reduce_sum=reduce_sum)
        signal_B, metrics = advantages_over_ranks(self.algo.advantage, rewards_B, batch.group_ids, sampled_B, **kw)
        if self.cfg.group_baseline == "mixed":
            # Every live row in the statistics, the expert's too: one estimator for all rows.
            adv_B, metrics = advantages_over_ranks(self.algo.advantage, rewards_B, batch.group_ids, batch.valid.bool(),
                                                   **kw)
            if bool(expert_B.any()):
                metrics["adv/expert_mean"] = adv_B[expert_B].float().mean()
            return adv_B, metrics, signal_B
        adv_B = signal_B
        if bool(expert_B.any()):
            c = self.cfg
            adv_e_B = self.expert_rule(rewards_B, batch.group_ids, sampled_B, expert_B & batch.valid.bool(),
                                       cap=c.expert_advantage_cap, value=c.expert_advantage_value,
                                       tau=c.tempsamp_threshold, log_scale=c.tempsamp_log_scale, alpha=c.tempsamp_alpha)
            adv_B = torch.where(expert_B, adv_e_B.to(adv_B.dtype), adv_B)
            metrics["adv/expert_mean"] = adv_e_B[expert_B].float().mean()
        return adv_B, metrics, signal_B

    def update_fields(self, step: int) -> dict:
        c = self.cfg
        mu = chord_mu(step, warmup_steps=c.chord_mu_warmup_steps, decay_steps=c.chord_mu_decay_steps,
                      peak=c.chord_mu_peak, valley=c.chord_mu_valley)
        ps = self.algo.prefix_sampling
        return {"expert_form": c.expert_form, "gamma": c.gamma, "chord_mu": mu, "prefix_form": ps.form,
                "prefix_top_frac": ps.entropy_top_frac, "kl_convex": self.algo.remix.kl_convex,
                "kl_lambda": self.algo.remix.kl_lambda}
