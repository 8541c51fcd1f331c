"""Policy losses: clipped surrogate objectives as pure tensor functions, chosen by name.

Every loss has the signature::

    fn(logp_BT, old_logp_BT, adv_B, mask_BT, *, clip_low=0.2, clip_high=0.2,
       n_tokens_global=None, n_seqs_global=None, ref_logp_BT=None, beta=0.0, kl_estimator="k3",
       is_weights_BT=None, is_cap=None, max_len=None) -> (loss, metrics)

and accepts (ignoring) the keywords it does not use, so the engine calls every loss the same way;
a misspelt keyword is a TypeError.

- ``logp_BT`` (B, T): log-probs of the sampled completion tokens under the policy being trained
  (carries the gradient). ``old_logp_BT``: the same under the policy that sampled (detached here).
- ``adv_B`` (B,): one advantage per completion. ``mask_BT`` (B, T) bool/0-1: which tokens carry
  loss (completion tokens the model generated; not padding, prompts or tool observations). Masked
  positions may hold any value, NaN included: they get no loss and no gradient.
- Ratios are ``exp(clamp(logp - old_logp, -20, 20))``; the token surrogate is
  ``min(ratio * A, clip(ratio, 1 - clip_low, 1 + clip_high) * A)`` (clip-higher: separate bounds).
- KL to a frozen reference (``beta > 0`` needs ``ref_logp_BT``): ``beta * kl_BT`` is added to each
  token's loss and aggregated the same way (see :mod:`vrft.grpo.kl` for the estimators).
- ``is_weights_BT``: truncated importance-sampling (TIS) correction when rollouts came from another
  engine (vLLM), whose token probabilities differ slightly from the trainer's. The engine computes
  ``w = min(exp(old_logp_trainer - logp_sampler), cap)`` with :func:`truncated_is_weights`; the
  per-token policy surrogate (not the KL term) is multiplied by ``w`` (detached; ``is_cap`` clamps
  again if given).

Aggregation and scaling across micro-batches and ranks: each loss returns *this micro-batch's share*
of the global objective when given the global counts (``n_tokens_global`` = loss tokens in the whole
optimizer step over all ranks and accumulation steps; ``n_seqs_global`` = completions in it). Summing
the returned losses over micro-batches and ranks then gives the global loss, so: accumulate
gradients without dividing by the number of micro-batches, and under DDP/FSDP (which *average*
gradients over ranks) multiply the loss by the world size. Without the global counts the local ones
are used (a local mean).

- ``grpo``: per-sequence mean over its tokens, then mean over sequences (DeepSeekMath).
- ``dapo``: token sum / ``n_tokens_global``: every token weighs the same (DAPO, arXiv 2503.14476).
- ``dr_grpo``: token sum / (``n_seqs_global`` * ``max_len``), a constant, with ``max_len`` the
  generation budget (Dr. GRPO, arXiv 2503.20783): no length bias.
- ``gspo``: sequence-level ratio and clipping (GSPO, arXiv 2507.18071), see :func:`gspo_loss`.

Metrics (0-dim detached tensors): ``loss/policy`` (the policy term), ``loss/kl`` (the unscaled KL,
when beta > 0), ``loss/total``, ``policy/clip_frac`` (fraction of loss tokens whose gradient the clip
zeroes: ratio > 1 + clip_high with A > 0, or ratio < 1 - clip_low with A < 0), ``policy/clip_frac_low``,
``policy/clip_frac_high``, ``policy/ratio_mean``, ``policy/ratio_max``, ``policy/is_weight_mean``.
"""

from __future__ import annotations

from typing import Callable, Optional, Union

import torch
from torch import Tensor

from vrft.grpo.kl import kl_penalty
from vrft.registry import Registry

Metrics = dict[str, Tensor]
LossFn = Callable[..., tuple[Tensor, Metrics]]
Count = Union[int, float, Tensor, None]

LOSSES: Registry[LossFn] = Registry("policy loss")
LOG_RATIO_CLAMP = 20.0


def register_loss(name: str, *, override: bool = False):
    """Decorator: ``@register_loss("my_loss")`` on a function with the loss signature."""
    return LOSSES.register(name, override=override)


def get_loss(name: str) -> LossFn:
    """The loss registered under ``name``; the error lists the valid names."""
    return LOSSES.get(name)


def truncated_is_weights(old_logp_BT: Tensor, sampler_logp_BT: Tensor, cap: float = 2.0,
                         mask_BT: Optional[Tensor] = None) -> Tensor:
    """TIS weights ``min(exp(old_logp_trainer - logp_sampler), cap)`` (detached; 1 at padding).

    ``old_logp_BT`` is the trainer's log-prob of each sampled token before the update,
    ``sampler_logp_BT`` the rollout engine's (e.g. vLLM's) for the same token.
    """
    log_w_BT = (old_logp_BT.detach() - sampler_logp_BT.detach()).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    w_BT = torch.exp(log_w_BT).clamp(max=cap)
    if mask_BT is not None:
        w_BT = torch.where(mask_BT.bool(), w_BT, torch.ones_like(w_BT))
    return w_BT


# ---- shared pieces ---------------------------------------------------------------------------

def _zero_where_masked(x_BT: Tensor, mask_BT: Tensor) -> Tensor:
    return torch.where(mask_BT, x_BT, torch.zeros((), dtype=x_BT.dtype, device=x_BT.device))


def _check(logp_BT, old_logp_BT, adv_B, mask_BT, clip_low, clip_high, beta, ref_logp_BT) -> Tensor:
    if logp_BT.dim() != 2 or old_logp_BT.shape != logp_BT.shape or mask_BT.shape != logp_BT.shape:
        raise ValueError(f"logp_BT, old_logp_BT and mask_BT must share one (B, T) shape, got "
                         f"{tuple(logp_BT.shape)}, {tuple(old_logp_BT.shape)}, {tuple(mask_BT.shape)}")
    if adv_B.shape != logp_BT.shape[:1]:
        raise ValueError(f"adv_B must have shape ({logp_BT.shape[0]},), got {tuple(adv_B.shape)}")
    if not 0.0 <= clip_low < 1.0 or clip_high < 0.0:
        raise ValueError(f"need 0 <= clip_low < 1 and clip_high >= 0, got {clip_low}, {clip_high}")
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    if beta > 0 and ref_logp_BT is None:
        raise ValueError("beta > 0 needs ref_logp_BT (log-probs under the frozen reference model)")
    return mask_BT.bool()


def _surrogate(log_ratio_BT: Tensor, adv_B: Tensor, mask_BT: Tensor, clip_low: float, clip_high: float,
               is_weights_BT: Optional[Tensor], is_cap: Optional[float]):
    """Per-token clipped policy loss (0 at padding), the ratio, and which tokens the clip zeroes."""
    ratio_BT = torch.exp(log_ratio_BT.clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP))
    adv_BT = adv_B.detach().to(ratio_BT.dtype)[:, None]
    surr_BT = torch.minimum(ratio_BT * adv_BT, ratio_BT.clamp(1 - clip_low, 1 + clip_high) * adv_BT)
    if is_weights_BT is not None:
        w_BT = is_weights_BT.detach().to(ratio_BT.dtype)
        if is_cap is not None:
            w_BT = w_BT.clamp(max=is_cap)
        surr_BT = surr_BT * _zero_where_masked(w_BT, mask_BT)
    low_BT = mask_BT & (ratio_BT.detach() < 1 - clip_low) & (adv_BT < 0)
    high_BT = mask_BT & (ratio_BT.detach() > 1 + clip_high) & (adv_BT > 0)
    return _zero_where_masked(-surr_BT, mask_BT), ratio_BT.detach(), low_BT, high_BT


def _kl(logp_BT, ref_logp_BT, mask_BT, beta, kl_estimator) -> Optional[Tensor]:
    if beta <= 0:
        return None
    kl_BT = kl_penalty(_zero_where_masked(logp_BT, mask_BT), _zero_where_masked(ref_logp_BT, mask_BT),
                       kl_estimator)
    return _zero_where_masked(kl_BT, mask_BT)


def _count(n: Count, fallback: Tensor) -> Tensor:
    if n is None:
        return fallback.clamp(min=1)
    if isinstance(n, Tensor):
        return n.to(fallback.dtype).clamp(min=1)
    return fallback.new_tensor(float(max(n, 1)))


def _seq_mean(x_BT: Tensor, mask_BT: Tensor, n_seqs: Count) -> Tensor:
    """Mean over each sequence's tokens, summed over sequences, divided by the sequence count."""
    len_B = mask_BT.sum(-1).clamp(min=1).to(x_BT.dtype)
    return (x_BT.sum(-1) / len_B).sum() / _count(n_seqs, x_BT.new_tensor(float(x_BT.shape[0])))


def _token_sum(x_BT: Tensor, denom: Tensor) -> Tensor:
    return x_BT.sum() / denom


def _finish(policy: Tensor, kl: Optional[Tensor], beta: float, ratio_BT: Tensor, low_BT: Tensor,
            high_BT: Tensor, mask_BT: Tensor, is_weights_BT: Optional[Tensor]) -> tuple[Tensor, Metrics]:
    loss = policy + beta * kl if kl is not None else policy
    n_tok = mask_BT.sum().clamp(min=1)
    # Masked reductions without boolean indexing: no data-dependent shapes, so the loss also runs
    # under FakeTensorMode (the device tests) and without a host sync.
    ratio_max = torch.where(mask_BT, ratio_BT.detach(), torch.full_like(ratio_BT, -torch.inf)).max() \
        if ratio_BT.numel() else ratio_BT.new_ones(())
    metrics = {
        "loss/policy": policy,
        "loss/total": loss,
        "policy/clip_frac": (low_BT | high_BT).sum() / n_tok,
        "policy/clip_frac_low": low_BT.sum() / n_tok,
        "policy/clip_frac_high": high_BT.sum() / n_tok,
        "policy/ratio_mean": torch.where(mask_BT, ratio_BT, torch.zeros_like(ratio_BT)).sum() / n_tok,
        "policy/ratio_max": torch.where(torch.isfinite(ratio_max), ratio_max, torch.ones_like(ratio_max)),
    }
    if kl is not None:
        metrics["loss/kl"] = kl
    if is_weights_BT is not None:
        w_BT = is_weights_BT.detach()
        metrics["policy/is_weight_mean"] = torch.where(mask_BT, w_BT, torch.zeros_like(w_BT)).sum() / n_tok
    return loss, {k: v.detach().float() for k, v in metrics.items()}


def _token_log_ratio(logp_BT: Tensor, old_logp_BT: Tensor, mask_BT: Tensor) -> Tensor:
    return _zero_where_masked(logp_BT - old_logp_BT.detach(), mask_BT)


AGGREGATIONS = {"grpo": "seq_mean", "gspo": "seq_mean", "dapo": "token_sum", "dr_grpo": "constant"}
"""How each built-in loss turns per-token terms into its share of the global objective."""


def aggregate(loss: str, x_BT: Tensor, mask_BT: Tensor, *, n_tokens_global: Count = None,
              n_seqs_global: Count = None, max_len: Optional[int] = None) -> Tensor:
    """Per-token terms ``x_BT`` (0 at masked positions) reduced the way loss ``loss`` reduces its
    own: ``grpo``/``gspo`` per-sequence mean then / ``n_seqs_global``; ``dapo`` sum /
    ``n_tokens_global``; ``dr_grpo`` sum / (``n_seqs_global`` * ``max_len``). Lets another objective
    (:mod:`vrft.grpo.offpolicy`) add terms on some rows with the same weight per token as the loss."""
    mode = AGGREGATIONS.get(loss)
    if mode is None:
        raise ValueError(f"no known aggregation for loss {loss!r}; known: {sorted(AGGREGATIONS)}")
    mask_BT = mask_BT.bool()
    x_BT = _zero_where_masked(x_BT, mask_BT)
    if mode == "seq_mean":
        return _seq_mean(x_BT, mask_BT, n_seqs_global)
    if mode == "token_sum":
        return _token_sum(x_BT, _count(n_tokens_global, mask_BT.sum().to(x_BT.dtype)))
    if max_len is None or max_len <= 0:
        raise ValueError("the dr_grpo aggregation needs max_len > 0 (rollout.max_new_tokens)")
    return _token_sum(x_BT, _count(n_seqs_global, x_BT.new_tensor(float(x_BT.shape[0]))) * float(max_len))


# ---- the losses --------------------------------------------------------------------------------

@register_loss("grpo")
def grpo_loss(logp_BT: Tensor, old_logp_BT: Tensor, adv_B: Tensor, mask_BT: Tensor, *,
              clip_low: float = 0.2, clip_high: float = 0.2, n_seqs_global: Count = None,
              ref_logp_BT: Optional[Tensor] = None, beta: float = 0.0, kl_estimator: str = "k3",
              is_weights_BT: Optional[Tensor] = None, is_cap: Optional[float] = None,
              n_tokens_global: Count = None, max_len: Optional[int] = None) -> tuple[Tensor, Metrics]:
    """Per-sequence token mean, then mean over sequences (``n_seqs_global`` of them if given).

    On-policy (``logp == old_logp``) with equal lengths T, the loss is ``-mean(adv)`` and its
    gradient w.r.t. ``logp[i, t]`` is ``-adv[i] / (T * B)``.
    """
    mask_BT = _check(logp_BT, old_logp_BT, adv_B, mask_BT, clip_low, clip_high, beta, ref_logp_BT)
    pol_BT, ratio_BT, low_BT, high_BT = _surrogate(
        _token_log_ratio(logp_BT, old_logp_BT, mask_BT), adv_B, mask_BT, clip_low, clip_high,
        is_weights_BT, is_cap)
    kl_BT = _kl(logp_BT, ref_logp_BT, mask_BT, beta, kl_estimator)
    policy = _seq_mean(pol_BT, mask_BT, n_seqs_global)
    kl = _seq_mean(kl_BT, mask_BT, n_seqs_global) if kl_BT is not None else None
    return _finish(policy, kl, beta, ratio_BT, low_BT, high_BT, mask_BT, is_weights_BT)


@register_loss("dapo")
def dapo_loss(logp_BT: Tensor, old_logp_BT: Tensor, adv_B: Tensor, mask_BT: Tensor, *,
              clip_low: float = 0.2, clip_high: float = 0.2, n_tokens_global: Count = None,
              ref_logp_BT: Optional[Tensor] = None, beta: float = 0.0, kl_estimator: str = "k3",
              is_weights_BT: Optional[Tensor] = None, is_cap: Optional[float] = None,
              n_seqs_global: Count = None, max_len: Optional[int] = None) -> tuple[Tensor, Metrics]:
    """Token-level sum divided by ``n_tokens_global`` (the loss tokens of the whole optimizer step,
    over ranks and accumulation steps); the local mask sum when None."""
    mask_BT = _check(logp_BT, old_logp_BT, adv_B, mask_BT, clip_low, clip_high, beta, ref_logp_BT)
    pol_BT, ratio_BT, low_BT, high_BT = _surrogate(
        _token_log_ratio(logp_BT, old_logp_BT, mask_BT), adv_B, mask_BT, clip_low, clip_high,
        is_weights_BT, is_cap)
    kl_BT = _kl(logp_BT, ref_logp_BT, mask_BT, beta, kl_estimator)
    denom = _count(n_tokens_global, mask_BT.sum().to(pol_BT.dtype))
    policy = _token_sum(pol_BT, denom)
    kl = _token_sum(kl_BT, denom) if kl_BT is not None else None
    return _finish(policy, kl, beta, ratio_BT, low_BT, high_BT, mask_BT, is_weights_BT)


@register_loss("dr_grpo")
def dr_grpo_loss(logp_BT: Tensor, old_logp_BT: Tensor, adv_B: Tensor, mask_BT: Tensor, *,
                 clip_low: float = 0.2, clip_high: float = 0.2, n_seqs_global: Count = None,
                 max_len: Optional[int] = None, ref_logp_BT: Optional[Tensor] = None, beta: float = 0.0,
                 kl_estimator: str = "k3", is_weights_BT: Optional[Tensor] = None,
                 is_cap: Optional[float] = None, n_tokens_global: Count = None) -> tuple[Tensor, Metrics]:
    """Token sum divided by the constant ``n_seqs_global * max_len`` (``max_len`` = the generation
    budget, ``rollout.max_new_tokens``), so long and short completions weigh the same per token."""
    if max_len is None or max_len <= 0:
        raise ValueError("the dr_grpo loss needs max_len > 0: pass the generation budget "
                         "(rollout.max_new_tokens)")
    mask_BT = _check(logp_BT, old_logp_BT, adv_B, mask_BT, clip_low, clip_high, beta, ref_logp_BT)
    pol_BT, ratio_BT, low_BT, high_BT = _surrogate(
        _token_log_ratio(logp_BT, old_logp_BT, mask_BT), adv_B, mask_BT, clip_low, clip_high,
        is_weights_BT, is_cap)
    kl_BT = _kl(logp_BT, ref_logp_BT, mask_BT, beta, kl_estimator)
    denom = _count(n_seqs_global, pol_BT.new_tensor(float(logp_BT.shape[0]))) * float(max_len)
    policy = _token_sum(pol_BT, denom)
    kl = _token_sum(kl_BT, denom) if kl_BT is not None else None
    return _finish(policy, kl, beta, ratio_BT, low_BT, high_BT, mask_BT, is_weights_BT)


def gspo_sequence_log_ratio(logp_BT: Tensor, old_logp_BT: Tensor, mask_BT: Tensor) -> Tensor:
    """``log s_i = mean over the loss tokens of (logp - old_logp)`` (B,), 0 for empty sequences."""
    mask_BT = mask_BT.bool()
    len_B = mask_BT.sum(-1).clamp(min=1).to(logp_BT.dtype)
    return _token_log_ratio(logp_BT, old_logp_BT, mask_BT).sum(-1) / len_B


@register_loss("gspo")
def gspo_loss(logp_BT: Tensor, old_logp_BT: Tensor, adv_B: Tensor, mask_BT: Tensor, *,
              clip_low: float = 0.2, clip_high: float = 0.2, n_seqs_global: Count = None,
              ref_logp_BT: Optional[Tensor] = None, beta: float = 0.0, kl_estimator: str = "k3",
              is_weights_BT: Optional[Tensor] = None, is_cap: Optional[float] = None,
              n_tokens_global: Count = None, max_len: Optional[int] = None) -> tuple[Tensor, Metrics]:
    """Group Sequence Policy Optimization: one importance ratio per sequence,
    ``s_i = exp(mean_t (logp - old_logp))`` (length-normalised), clipped at the sequence level.

    Implemented in the paper's GSPO-token form (its eq. for ``s_{i,t}``)::

        s_it = sg[s_i] * exp(logp_it - sg[logp_it])

    whose value is ``s_i`` for every token, so clipping switches a whole sequence on or off, and
    whose gradient, after the per-sequence token mean, equals GSPO's
    ``s_i * A_i * (1/|y_i|) * sum_t grad logp_it``. With one advantage per sequence (as here) this is
    exactly GSPO. The paper's clip ranges are tiny (about 3e-4 / 4e-4) because ``s_i`` is a
    geometric mean. ``policy/ratio_mean`` is the mean of ``s_i`` over non-empty sequences, and
    ``policy/seq_clip_frac`` the fraction of sequences clipped; ``policy/clip_frac`` counts tokens.
    """
    mask_BT = _check(logp_BT, old_logp_BT, adv_B, mask_BT, clip_low, clip_high, beta, ref_logp_BT)
    log_s_B = gspo_sequence_log_ratio(logp_BT, old_logp_BT, mask_BT).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    logp_m_BT = _zero_where_masked(logp_BT, mask_BT)
    log_s_BT = _zero_where_masked(log_s_B.detach()[:, None] + logp_m_BT - logp_m_BT.detach(), mask_BT)
    pol_BT, ratio_BT, low_BT, high_BT = _surrogate(log_s_BT, adv_B, mask_BT, clip_low, clip_high,
                                                   is_weights_BT, is_cap)
    kl_BT = _kl(logp_BT, ref_logp_BT, mask_BT, beta, kl_estimator)
    policy = _seq_mean(pol_BT, mask_BT, n_seqs_global)
    kl = _seq_mean(kl_BT, mask_BT, n_seqs_global) if kl_BT is not None else None
    loss, metrics = _finish(policy, kl, beta, ratio_BT, low_BT, high_BT, mask_BT, is_weights_BT)
    nonempty_B = mask_BT.any(-1)
    n_seq = nonempty_B.sum().clamp(min=1)
    s_B = torch.exp(log_s_B.detach())
    metrics["policy/ratio_mean"] = (torch.where(nonempty_B, s_B, torch.zeros_like(s_B)).sum() / n_seq).float()
    s_max = torch.where(nonempty_B, s_B, torch.full_like(s_B, -torch.inf)).max() if s_B.numel() else s_B.new_ones(())
    metrics["policy/ratio_max"] = torch.where(torch.isfinite(s_max), s_max, torch.ones_like(s_max)).float()
    metrics["policy/seq_clip_frac"] = ((low_BT | high_BT).any(-1).sum() / n_seq).float()
    return loss, metrics
