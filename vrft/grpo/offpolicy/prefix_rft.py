"""Prefix-RFT's trainer side (arXiv 2507.01679): the prefix-length schedule and the entropy-based
selection of the prefix tokens that carry loss. The rollout side is :mod:`vrft.rollout.prefix`.

Schedule: the fraction of the expert answer given as prefix decays by a cosine from ``max_ratio``
(0.95) at step 0 to ``min_ratio`` (0.05) at ``decay_steps`` (default: the run's steps), so the
policy writes more and more of the answer itself::

    ratio(s) = min + (max - min) * (1 + cos(pi * min(s / decay_steps, 1))) / 2

Entropy-based selection: of each row's prefix tokens, only the ``top_frac`` (0.2) with the highest
entropy under the current policy are trained (``k = ceil(top_frac * n_prefix)``; ties: the earlier
token). The rest of the prefix carries no loss: the low-entropy tokens are those the policy already
agrees with or is sure against, and imitating them at probability-1 behaviour would dominate the
update (the paper's reason for the clip). The selected tokens get an expert form joined with the
RL loss (``algo.prefix_sampling.form``: luffy ``-A p/(p+gamma)`` or none ``-A log p``), with no
ratio and no clip; the continuation goes through the configured clipped loss.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from vrft.rollout.prefix import PrefixPlan


def prefix_ratio(step: int, *, max_ratio: float, min_ratio: float, decay_steps: int) -> float:
    """The cosine-decayed prefix fraction at ``step`` (``min_ratio`` from ``decay_steps`` on)."""
    if decay_steps <= 0:
        return min_ratio
    k = min(step / decay_steps, 1.0)
    return min_ratio + (max_ratio - min_ratio) * 0.5 * (1 + math.cos(math.pi * k))


def prefix_plan(cfg, step: int, total_steps: int) -> PrefixPlan | None:
    """This step's plan from ``algo.prefix_sampling`` (None: no prefix rows this step)."""
    if not cfg.enabled or (cfg.until_step is not None and step >= cfg.until_step):
        return None
    decay = total_steps if cfg.decay_steps is None else cfg.decay_steps
    return PrefixPlan(cfg.per_group, prefix_ratio(step, max_ratio=cfg.max_ratio, min_ratio=cfg.min_ratio,
                                                  decay_steps=decay))


def select_prefix_tokens(prefix_BT: Tensor, entropy_BT: Tensor, top_frac: float) -> Tensor:
    """(B, T) bool: per row, the ``ceil(top_frac * n_prefix)`` prefix tokens of highest entropy."""
    prefix_BT = prefix_BT.bool()
    ent_BT = torch.where(prefix_BT, entropy_BT.detach().float(), torch.full_like(entropy_BT, -torch.inf,
                                                                               dtype=torch.float32))
    k_B = torch.ceil(prefix_BT.sum(-1).to(torch.float32) * top_frac)
    order_BT = torch.argsort(-ent_BT, dim=-1, stable=True)  # descending, earlier token first on a tie
    rank_BT = torch.empty_like(order_BT).scatter_(-1, order_BT, torch.arange(
        ent_BT.shape[-1], device=ent_BT.device).expand_as(order_BT).contiguous())
    return prefix_BT & (rank_BT < k_B[:, None])
