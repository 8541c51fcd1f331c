"""Replay of recent rollouts as ``old`` rows (the buffer part of ReMix, arXiv 2507.06892).

Each step's rollouts are stored after the update together with their advantages, loss mask and
*behaviour log-probs*: the trainer's log-probs of the tokens before that step's update, i.e. under
the policy that sampled them. The next ``algo.remix.buffer_steps`` steps train on their own batch
plus these stored rows, marked ``behaviour = "old"``. Every row goes through the configured clipped
loss with its ratio taken against its own behaviour policy (the mix-policy clipped objective)::

    r_i,t = pi_theta(y_i,t) / pi_behaviour(i)(y_i,t),   loss_t = -min(r A, clip(r, 1 - e_l, 1 + e_h) A)

so each rollout is used in ``1 + buffer_steps`` updates (update-to-data ratio above 1; with
``algo.mini_batch_size`` set, the replayed rows also add optimizer steps). Policy reincarnation: from
step ``algo.remix.until_step`` on, the buffer is emptied and training is on-policy again; with
``algo.remix.reincarnate_reference`` the KL's base model is replaced by the policy there too
(:mod:`.reincarnation`).

The buffer is per rank (each rank replays its own rows) and goes into each rank's checkpoint state,
so a resumed run replays the same rows. ReMix's KL-Convex constraint is :mod:`.kl_convex`
(``algo.remix.kl_convex``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from vrft.rollout.batch import OLD, POLICY, RolloutBatch


@dataclass
class Stored:
    batch: RolloutBatch  # rows marked "old", behaviour_logprobs filled
    adv_B: Tensor
    loss_mask_B: Tensor


class Replay:
    """The replay buffer of one rank (inactive unless ``algo.remix.enabled``)."""

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.entries: list[Stored] = []

    def active(self, step: int) -> bool:
        return bool(self.cfg.enabled) and (self.cfg.until_step is None or step < self.cfg.until_step)

    def mix(self, step: int, batch: RolloutBatch, adv_B: Tensor, loss_mask_B: Tensor,
            old: list[Tensor] | None, is_weights: list[Tensor] | None):
        """This step's batch followed by the stored rows: (batch, adv_B, loss_mask_B, old, is_weights)."""
        if not self.active(step):
            self.entries = []  # reincarnation: on-policy from here on
        if not self.entries:
            return batch, adv_B, loss_mask_B, old, is_weights
        parts = [e.batch for e in self.entries]
        merged = RolloutBatch.concat([batch, *parts])
        stored_lp = [lp for p in parts for lp in p.behaviour_logprobs]
        old_all = (list(old) if old is not None else [None] * len(batch.behaviour)) + stored_lp
        is_all = None if is_weights is None else list(is_weights) + [torch.ones_like(lp) for lp in stored_lp]
        adv_all = torch.cat([adv_B, *[e.adv_B.to(adv_B.dtype) for e in self.entries]])
        mask_all = torch.cat([loss_mask_B, *[e.loss_mask_B.to(loss_mask_B.dtype) for e in self.entries]])
        return merged, adv_all, mask_all, old_all, is_all

    def store(self, step: int, batch: RolloutBatch, adv_B: Tensor, loss_mask_B: Tensor,
              behaviour_lp: list[Tensor] | None) -> dict[str, float]:
        """Keep this step's rows (the policy's ones as ``old``, with ``behaviour_lp``) for the next steps."""
        if not self.active(step + 1) or self.cfg.buffer_steps <= 0:
            self.entries = []
            return {}
        assert behaviour_lp is not None, "the trainer computes behaviour log-probs while replay is on"
        lp = [t.detach().float().cpu() for t in behaviour_lp]
        kinds = [OLD if b == POLICY else b for b in batch.behaviour]
        stored = replace(batch, behaviour=kinds,
                         behaviour_logprobs=[lp[i] if kinds[i] == OLD else batch.behaviour_logprobs[i]
                                             for i in range(len(kinds))])
        self.entries = (self.entries + [Stored(stored, adv_B.detach().cpu(), loss_mask_B.detach().cpu())])
        self.entries = self.entries[-self.cfg.buffer_steps:]
        return {"remix/buffer_rows": float(sum(len(e.batch.behaviour) for e in self.entries))}

    def state_dict(self) -> dict:
        return {"entries": list(self.entries)}

    def load_state_dict(self, state: dict) -> None:
        self.entries = list(state["entries"])
