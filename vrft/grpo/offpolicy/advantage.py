"""Advantages when a group holds expert rows: the sampled rows' advantages come from the sampled
rows alone, and each expert row gets one by a rule chosen by name.

Expert rows never enter a group's mean or standard deviation: an injected correct answer would
otherwise lower every sampled row's advantage and, in a group where all samples failed, create a
spread (a "signal") the policy never produced. So the configured estimator
(:mod:`vrft.grpo.advantages`) runs with expert rows marked invalid, and then:

- ``relative``: ``A_e = clip((r_e - mean_s) / (std_s + eps), -cap, cap)``: the expert's reward
  measured against the statistics of the group's sampled rows (unbiased std, as GRPO), bounded by
  ``cap`` because ``std_s`` is 0 in a group whose samples all scored the same (the case injection
  is for: all failed, the expert gets ``+cap``).
- ``fixed``: ``A_e = value`` (a constant positive advantage: the expert is always imitated).

A group without valid sampled rows gives ``relative`` the statistics (0, 0): ``A_e = clip(r_e /
eps)``. Rules are pure functions ``(rewards_B, group_B, sampled_B, expert_B, *, cap, value, eps)
-> adv_B`` (0 at non-expert rows).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from vrft.grpo.advantages import group_stats
from vrft.registry import Registry

ExpertAdvantageFn = Callable[..., Tensor]
EXPERT_ADVANTAGES: Registry[ExpertAdvantageFn] = Registry("expert advantage rule")


def register_expert_advantage(name: str, *, override: bool = False):
    return EXPERT_ADVANTAGES.register(name, override=override)


def get_expert_advantage(name: str) -> ExpertAdvantageFn:
    return EXPERT_ADVANTAGES.get(name)


@register_expert_advantage("relative")
def relative_expert_advantage(rewards_B: Tensor, group_B: Tensor, sampled_B: Tensor, expert_B: Tensor, *,
                              cap: float = 3.0, value: float = 1.0, eps: float = 1e-6) -> Tensor:
    """``clip((r_e - mean_s) / (std_s + eps), -cap, cap)`` on expert rows, 0 elsewhere."""
    group_B = group_B.long()
    stats = group_stats(rewards_B, group_B, sampled_B, num_groups=int(group_B.max()) + 1 if group_B.numel() else 0)
    r_B = torch.nan_to_num(rewards_B.detach().to(torch.float64), nan=0.0)
    std_G = stats.var_G(unbiased=True).sqrt()
    adv_B = ((r_B - stats.mean_G[group_B]) / (std_G[group_B] + eps)).clamp(-cap, cap)
    return torch.where(expert_B.bool(), adv_B, torch.zeros_like(adv_B)).to(rewards_B.dtype)


@register_expert_advantage("fixed")
def fixed_expert_advantage(rewards_B: Tensor, group_B: Tensor, sampled_B: Tensor, expert_B: Tensor, *,
                           cap: float = 3.0, value: float = 1.0, eps: float = 1e-6) -> Tensor:
    """``value`` on expert rows, 0 elsewhere."""
    return torch.where(expert_B.bool(), torch.full_like(rewards_B, value), torch.zeros_like(rewards_B))
