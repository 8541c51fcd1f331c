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
- ``tempsamp``: TempSamp-R1's non-linear soft shaping (arXiv 2509.18056): every reward of the group
  is shaped by :func:`tempsamp_shape` (log-compressed above the threshold ``tau``, an exponential
  ramp below it), and the expert's advantage is its shaped reward against the mean and unbiased std
  of the shaped rewards of the *mixed* group (sampled and expert rows together, as in the paper's
  mix-policy GRPO): ``A_e = (s(r_e) - mean(s(r_g))) / (std(s(r_g)) + eps)``. Bounded without a cap
  because the expert is part of the statistics.

A group without valid sampled rows gives ``relative`` the statistics (0, 0): ``A_e = clip(r_e /
eps)``. Rules are pure functions ``(rewards_B, group_B, sampled_B, expert_B, **settings) -> adv_B``
(0 at non-expert rows); ``settings`` holds every rule's keywords (``cap``, ``value``, ``eps``,
``tau``, ``log_scale``, ``alpha``) and each rule reads the ones it needs.
"""

from __future__ import annotations

import math
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
                              cap: float = 3.0, eps: float = 1e-6, **_settings) -> Tensor:
    """``clip((r_e - mean_s) / (std_s + eps), -cap, cap)`` on expert rows, 0 elsewhere."""
    group_B = group_B.long()
    stats = group_stats(rewards_B, group_B, sampled_B, num_groups=int(group_B.max()) + 1 if group_B.numel() else 0)
    r_B = torch.nan_to_num(rewards_B.detach().to(torch.float64), nan=0.0)
    std_G = stats.var_G(unbiased=True).sqrt()
    adv_B = ((r_B - stats.mean_G[group_B]) / (std_G[group_B] + eps)).clamp(-cap, cap)
    return torch.where(expert_B.bool(), adv_B, torch.zeros_like(adv_B)).to(rewards_B.dtype)


@register_expert_advantage("fixed")
def fixed_expert_advantage(rewards_B: Tensor, group_B: Tensor, sampled_B: Tensor, expert_B: Tensor, *,
                           value: float = 1.0, **_settings) -> Tensor:
    """``value`` on expert rows, 0 elsewhere."""
    return torch.where(expert_B.bool(), torch.full_like(rewards_B, value), torch.zeros_like(rewards_B))


def tempsamp_shape(r_B: Tensor, *, tau: float = 0.8, log_scale: float = 0.01, alpha: float = 1.0) -> Tensor:
    """TempSamp-R1's reward shaping, elementwise (fp64 in, fp64 out)::

        s(r) = tau + log_scale * ln(r - tau + 1)                  r >= tau
        s(r) = tau - (exp(alpha (tau - r)) - 1) / (exp(alpha) - 1)   r <  tau

    Above ``tau`` a success is a success (1.0 and 0.8 differ by 0.0018 at the defaults), so the
    near-perfect expert does not dwarf good samples; below it the penalty grows exponentially.
    The defaults are the official code's (threshold 0.8, alpha 1, log scale 0.01)."""
    if alpha <= 0:
        raise ValueError(f"tempsamp alpha must be > 0, got {alpha}")
    high_B = tau + log_scale * torch.log1p((r_B - tau).clamp(min=0.0))
    low_B = tau - torch.expm1(alpha * (tau - r_B).clamp(min=0.0)) / math.expm1(alpha)
    return torch.where(r_B >= tau, high_B, low_B)


@register_expert_advantage("tempsamp")
def tempsamp_expert_advantage(rewards_B: Tensor, group_B: Tensor, sampled_B: Tensor, expert_B: Tensor, *,
                              tau: float = 0.8, log_scale: float = 0.01, alpha: float = 1.0, eps: float = 1e-6,
                              **_settings) -> Tensor:
    """``(s(r_e) - mean_g s) / (std_g s + eps)`` on expert rows (statistics over the group's sampled
    *and* expert rows, unbiased std), 0 elsewhere; ``s`` is :func:`tempsamp_shape`."""
    group_B = group_B.long()
    r_B = torch.nan_to_num(rewards_B.detach().to(torch.float64), nan=0.0)
    s_B = tempsamp_shape(r_B, tau=tau, log_scale=log_scale, alpha=alpha)
    members_B = sampled_B.bool() | expert_B.bool()
    stats = group_stats(s_B, group_B, members_B, num_groups=int(group_B.max()) + 1 if group_B.numel() else 0)
    std_G = stats.var_G(unbiased=True).sqrt()
    adv_B = (s_B - stats.mean_G[group_B]) / (std_G[group_B] + eps)
    return torch.where(expert_B.bool(), adv_B, torch.zeros_like(adv_B)).to(rewards_B.dtype)
