"""Advantage estimators: one scalar advantage per completion, from its reward and its group's rewards.

Every estimator is a pure function registered by name::

    fn(rewards_B, group_B, valid_B=None, *, eps=1e-6, stats=None) -> (adv_B, metrics)

- ``rewards_B`` (B,) float: the scalar reward of each completion.
- ``group_B`` (B,) int: the group id of each completion; completions of one prompt share an id. Ids
  are indices in ``[0, num_groups)``; groups may be uneven (some samples dropped or excluded).
- ``valid_B`` (B,) bool or None: False marks an excluded sample (its reward errored). It is left
  out of every statistic and gets advantage 0. Its reward may be NaN.
- ``stats``: precomputed :class:`GroupStats`. When a group's completions are spread over ranks, the
  engine computes the local stats, sums them over ranks, and passes the result::

      stats = group_stats(rewards_B, group_B, valid_B, num_groups=P).reduced(all_reduce_sum)
      adv_B, metrics = get_advantage("grpo")(rewards_B, group_B, valid_B, stats=stats)

  ``group_B`` must then hold *global* group ids (the same on every rank), and ``num_groups`` the
  global number of groups so every rank's tensors have the same shape.

Statistics are accumulated in float64 as (sum, sum of squares, count) per group, so they are exact
enough for rewards of ordinary magnitude and reduce across ranks with one all-reduce.

Estimators
- ``grpo``: ``(r - mean_g) / (std_g + eps)`` (DeepSeekMath, arXiv 2402.03300). ``std_g`` is the
  *unbiased* (n - 1) group standard deviation, as ``torch.std`` computes it in TRL and verl, so
  numbers match theirs; a group with a single valid sample gets advantage 0.
- ``dr_grpo``: ``r - mean_g``, no std division (Dr. GRPO, arXiv 2503.20783).
- ``batch_std``: ``(r - mean_g) / (std_batch + eps)`` where ``std_batch`` is the population std of
  the group-centred rewards over the whole (global) batch (REINFORCE++-baseline, arXiv 2501.03262).
- ``raft``: 1 for each group's best valid completion, 0 for the rest (RAFT, arXiv 2304.06767).
- ``rloo``: ``r - mean of the other valid samples of the group`` (leave-one-out, arXiv 2402.14740);
  a group with one valid sample gets 0.

Metrics (0-dim detached tensors): ``adv/mean``, ``adv/std``, ``adv/abs_max`` over the valid local
samples, ``adv/valid_frac``, and ``adv/zero_std_frac``: the fraction of non-empty groups whose
rewards are all equal (no learning signal), counted on ``stats`` (global when reduced).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.distributed as dist
from torch import Tensor

from vrft.registry import Registry

Metrics = dict[str, Tensor]
AdvantageFn = Callable[..., tuple[Tensor, Metrics]]

ADVANTAGES: Registry[AdvantageFn] = Registry("advantage estimator")


def register_advantage(name: str, *, override: bool = False):
    """Decorator: ``@register_advantage("my_adv")`` on a function with the estimator signature."""
    return ADVANTAGES.register(name, override=override)


def get_advantage(name: str) -> AdvantageFn:
    """The estimator registered under ``name``; the error lists the valid names."""
    return ADVANTAGES.get(name)


@dataclass(frozen=True)
class GroupStats:
    """Per-group sufficient statistics, float64, each of shape (G,)."""

    sum_G: Tensor
    sumsq_G: Tensor
    count_G: Tensor

    @property
    def num_groups(self) -> int:
        return self.sum_G.shape[0]

    def pack(self) -> Tensor:
        """(3, G) tensor, one buffer for one all-reduce."""
        return torch.stack([self.sum_G, self.sumsq_G, self.count_G])

    @classmethod
    def unpack(cls, packed_3G: Tensor) -> "GroupStats":
        return cls(packed_3G[0], packed_3G[1], packed_3G[2])

    def reduced(self, reduce: Callable[[Tensor], Tensor]) -> "GroupStats":
        """Apply a sum-reduction (e.g. an all-reduce over ranks) to the packed buffer.
        ``reduce`` may work in place and must return the reduced tensor."""
        return GroupStats.unpack(reduce(self.pack()))  # pack() is a fresh buffer

    @property
    def mean_G(self) -> Tensor:
        return self.sum_G / self.count_G.clamp(min=1)

    @property
    def sq_dev_G(self) -> Tensor:
        """Sum of squared deviations from the group mean, per group."""
        return (self.sumsq_G - self.sum_G * self.mean_G).clamp(min=0)

    def var_G(self, unbiased: bool = True) -> Tensor:
        """Group variance; 0 for groups with fewer than two samples (or one, when biased)."""
        denom_G = self.count_G - 1 if unbiased else self.count_G
        return torch.where(denom_G > 0, self.sq_dev_G / denom_G.clamp(min=1), torch.zeros_like(self.sum_G))

    def centred_batch_var(self) -> Tensor:
        """Population variance over all samples of their group-centred rewards (a scalar)."""
        return self.sq_dev_G.sum() / self.count_G.sum().clamp(min=1)


def all_reduce_sum(t: Tensor) -> Tensor:
    """Sum ``t`` over ranks in place when torch.distributed is initialised; identity otherwise."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def _check_inputs(rewards_B: Tensor, group_B: Tensor, valid_B: Optional[Tensor]) -> Tensor:
    if rewards_B.dim() != 1 or group_B.shape != rewards_B.shape:
        raise ValueError(f"rewards_B and group_B must be 1-D of the same length, got "
                         f"{tuple(rewards_B.shape)} and {tuple(group_B.shape)}")
    if group_B.dtype.is_floating_point or group_B.dtype == torch.bool:
        raise ValueError(f"group_B must hold integer group ids, got dtype {group_B.dtype}")
    if valid_B is None:
        return torch.ones_like(rewards_B, dtype=torch.bool)
    if valid_B.shape != rewards_B.shape:
        raise ValueError(f"valid_B must have shape {tuple(rewards_B.shape)}, got {tuple(valid_B.shape)}")
    return valid_B.to(torch.bool)


def _valid_rewards64(rewards_B: Tensor, valid_B: Tensor) -> Tensor:
    """float64 rewards with excluded samples zeroed; a non-finite *valid* reward is an error."""
    r_B = rewards_B.detach().to(torch.float64)
    bad_B = valid_B & ~torch.isfinite(r_B)
    if bool(bad_B.any()):
        idx = bad_B.nonzero().flatten().tolist()
        raise ValueError(f"non-finite reward(s) at sample index {idx}; mark errored samples with "
                         f"valid_B=False instead")
    return torch.where(valid_B, r_B, torch.zeros_like(r_B))


def group_stats(rewards_B: Tensor, group_B: Tensor, valid_B: Optional[Tensor] = None, *,
                num_groups: Optional[int] = None) -> GroupStats:
    """(sum, sum of squares, count) of the valid rewards of each group, via scatter_add.

    ``num_groups`` fixes G (needed to all-reduce across ranks); default ``max(group_B) + 1``.
    Raises ValueError on a group id outside ``[0, num_groups)`` or a non-finite valid reward.
    """
    valid_B = _check_inputs(rewards_B, group_B, valid_B)
    group_B = group_B.long()
    if group_B.numel() and int(group_B.min()) < 0:
        raise ValueError(f"group ids must be >= 0, got {int(group_B.min())}")
    top = int(group_B.max()) + 1 if group_B.numel() else 0
    num_groups = top if num_groups is None else num_groups
    if top > num_groups:
        raise ValueError(f"group id {top - 1} is out of range for num_groups={num_groups}")
    r_B = _valid_rewards64(rewards_B, valid_B)
    w_B = valid_B.to(torch.float64)
    zeros = torch.zeros(num_groups, dtype=torch.float64, device=rewards_B.device)
    return GroupStats(
        sum_G=zeros.scatter_add(0, group_B, r_B),
        sumsq_G=zeros.scatter_add(0, group_B, r_B * r_B),
        count_G=zeros.scatter_add(0, group_B, w_B),
    )


def _prepare(rewards_B, group_B, valid_B, stats):
    valid_B = _check_inputs(rewards_B, group_B, valid_B)
    if stats is None:
        stats = group_stats(rewards_B, group_B, valid_B)
    elif group_B.numel() and int(group_B.max()) >= stats.num_groups:
        raise ValueError(f"group id {int(group_B.max())} is out of range for stats of "
                         f"{stats.num_groups} groups")
    return _valid_rewards64(rewards_B, valid_B), group_B.long(), valid_B, stats


def _finish(adv64_B: Tensor, rewards_B: Tensor, valid_B: Tensor, stats: GroupStats,
            eps: float) -> tuple[Tensor, Metrics]:
    adv64_B = torch.where(valid_B, adv64_B, torch.zeros_like(adv64_B))
    out_dtype = rewards_B.dtype if rewards_B.dtype.is_floating_point else torch.float32
    adv_B = adv64_B.to(out_dtype)
    n_valid = valid_B.sum().clamp(min=1)
    a_B = adv64_B[valid_B]
    mean = a_B.sum() / n_valid
    std = ((a_B - mean) ** 2).sum().div(n_valid).sqrt()
    nonempty_G = stats.count_G > 0
    zero_std_G = nonempty_G & (stats.var_G(unbiased=False).sqrt() <= eps)
    metrics = {
        "adv/mean": mean.float(),
        "adv/std": std.float(),
        "adv/abs_max": (a_B.abs().max() if a_B.numel() else torch.zeros((), dtype=torch.float64)).float(),
        "adv/valid_frac": (valid_B.sum() / max(valid_B.numel(), 1)).float(),
        "adv/zero_std_frac": (zero_std_G.sum() / nonempty_G.sum().clamp(min=1)).float(),
    }
    return adv_B, {k: v.detach() for k, v in metrics.items()}


@register_advantage("grpo")
def grpo_advantage(rewards_B: Tensor, group_B: Tensor, valid_B: Optional[Tensor] = None, *,
                   eps: float = 1e-6, stats: Optional[GroupStats] = None) -> tuple[Tensor, Metrics]:
    """``(r - mean_g) / (std_g + eps)`` with the unbiased group std (DeepSeekMath GRPO)."""
    r_B, group_B, valid_B, stats = _prepare(rewards_B, group_B, valid_B, stats)
    std_G = stats.var_G(unbiased=True).sqrt()
    adv_B = (r_B - stats.mean_G[group_B]) / (std_G[group_B] + eps)
    return _finish(adv_B, rewards_B, valid_B, stats, eps)


@register_advantage("dr_grpo")
def dr_grpo_advantage(rewards_B: Tensor, group_B: Tensor, valid_B: Optional[Tensor] = None, *,
                      eps: float = 1e-6, stats: Optional[GroupStats] = None) -> tuple[Tensor, Metrics]:
    """``r - mean_g``: Dr. GRPO drops the std division, which over-weights easy/hard prompts."""
    r_B, group_B, valid_B, stats = _prepare(rewards_B, group_B, valid_B, stats)
    adv_B = r_B - stats.mean_G[group_B]
    return _finish(adv_B, rewards_B, valid_B, stats, eps)


@register_advantage("batch_std")
def batch_std_advantage(rewards_B: Tensor, group_B: Tensor, valid_B: Optional[Tensor] = None, *,
                        eps: float = 1e-6, stats: Optional[GroupStats] = None) -> tuple[Tensor, Metrics]:
    """``(r - mean_g) / (std_batch + eps)``, std of the group-centred rewards over the batch
    (population std; REINFORCE++-baseline). Global when ``stats`` was reduced over ranks."""
    r_B, group_B, valid_B, stats = _prepare(rewards_B, group_B, valid_B, stats)
    std = stats.centred_batch_var().sqrt()
    adv_B = (r_B - stats.mean_G[group_B]) / (std + eps)
    return _finish(adv_B, rewards_B, valid_B, stats, eps)


@register_advantage("rloo")
def rloo_advantage(rewards_B: Tensor, group_B: Tensor, valid_B: Optional[Tensor] = None, *,
                   eps: float = 1e-6, stats: Optional[GroupStats] = None) -> tuple[Tensor, Metrics]:
    """``r - (sum_g - r) / (n_g - 1)``: the baseline is the mean of the *other* valid samples of
    the group; a group with a single valid sample gets 0. Equals ``n/(n-1) * (r - mean_g)``."""
    r_B, group_B, valid_B, stats = _prepare(rewards_B, group_B, valid_B, stats)
    n_B = stats.count_G[group_B]
    others_mean_B = (stats.sum_G[group_B] - r_B) / (n_B - 1).clamp(min=1)
    adv_B = torch.where(n_B > 1, r_B - others_mean_B, torch.zeros_like(r_B))
    return _finish(adv_B, rewards_B, valid_B, stats, eps)


@register_advantage("raft")
def raft_advantage(rewards_B: Tensor, group_B: Tensor, valid_B: Optional[Tensor] = None, *,
                   eps: float = 1e-6, stats: Optional[GroupStats] = None) -> tuple[Tensor, Metrics]:
    """RAFT, reward-ranked fine-tuning (Dong et al., arXiv 2304.06767): each group's best valid
    completion (the first on ties) gets advantage 1, every other 0, so the on-policy update is
    supervised fine-tuning on the best of the G samples (up to the loss's normaliser). Needs each
    group on one rank (as the engine puts it); ``stats`` only feeds the metrics."""
    r_B, group_B, valid_B, stats = _prepare(rewards_B, group_B, valid_B, stats)
    adv_B = torch.zeros_like(r_B)
    best: dict[int, int] = {}
    for i, (g, r, v) in enumerate(zip(group_B.tolist(), r_B.tolist(), valid_B.tolist())):
        if v and (g not in best or r > r_B[best[g]].item()):
            best[g] = i
    if best:
        adv_B[list(best.values())] = 1.0
    return _finish(adv_B, rewards_B, valid_B, stats, eps)


def advantages_over_ranks(name: str, rewards_B: Tensor, group_B: Tensor, valid_B: Optional[Tensor], *,
                          rank: int, groups_per_rank: list[int],
                          reduce_sum: Callable[[Tensor], Tensor]) -> tuple[Tensor, Metrics]:
    """The estimator `name` on this rank's rows with group statistics of the whole global batch.

    Group ids become global (rank r's groups follow those of ranks < r; ``groups_per_rank`` is every
    rank's group count, the same list on all ranks) and the per-group sums are summed over ranks
    with ``reduce_sum``, so batch-wide estimators (``batch_std``) see the global batch and group-wise
    ones are unchanged (a group lives on one rank; the others add zeros)."""
    offset = sum(groups_per_rank[:rank])
    global_B = group_B.long() + offset
    stats = group_stats(rewards_B, global_B, valid_B, num_groups=sum(groups_per_rank)).reduced(reduce_sum)
    return get_advantage(name)(rewards_B, global_B, valid_B, stats=stats)
