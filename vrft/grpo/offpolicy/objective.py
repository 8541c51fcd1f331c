"""The policy objective over a batch that mixes row kinds (:data:`vrft.rollout.batch.BEHAVIOURS`).

``policy`` and ``old`` rows go through the configured clipped loss (:mod:`vrft.grpo.losses`) with
``old_logp_BT`` holding each row's behaviour log-probs: the policy's own before the update for a
``policy`` row, the *stored* behaviour log-probs for an ``old`` row (so its ratio
``pi_theta / pi_old`` is a true importance ratio, clipped as in PPO / ReMix's mix-policy objective).

``expert`` rows were not sampled from any policy the trainer has: their behaviour probability is 1.
They get **no PPO ratio and no clipping** (a clip against a policy that did not produce the tokens
is meaningless) and no truncated-IS weight; each gets a per-token term chosen by name, an
:class:`ExpertForm`. With ``p_t = pi_theta(y_t | ...)`` and ``A`` the row's advantage:

- ``luffy``: ``-f(p_t) * A`` with the regularised policy shaping ``f(p) = p / (p + gamma)``
  (LUFFY, arXiv 2504.14945, gamma = 0.1): gradient ``-A * gamma * p / (p + gamma)^2 * grad log p``,
  which boosts low-probability expert tokens instead of letting ``p * grad log p`` vanish.
- ``none``: ``-A * log p_t``: no importance weight, the log-likelihood weighted by the advantage.
- ``chord``: ``-sg[phi(p_t)] * log p_t`` with ``phi(p) = p (1 - p)`` (CHORD-phi, arXiv 2508.11408):
  SFT that down-weights tokens the policy is already sure of or far from.
- ``sft``: ``-log p_t`` (CHORD-mu: plain SFT on the expert rows).

*Joined* forms (``luffy``, ``none``) are part of the RL objective: their terms are reduced like the
loss's own tokens (:func:`vrft.grpo.losses.aggregate`) with the counts of all live rows, and the KL
term (``beta > 0``) covers them too. *Separate* forms (``chord``, ``sft``) are an auxiliary
supervised objective mixed by CHORD's global coefficient ``mu`` (:func:`chord_mu`)::

    L = (1 - mu) * L_RL(sampled rows) + mu * sum_{expert tokens} term / N_expert_tokens

where L_RL is normalised by the counts of the sampled rows alone and the SFT term is a token mean
over the expert tokens of the whole optimizer step (CHORD's token-level loss).

Expert tokens inside a sampled row (Prefix-RFT's prefix, ``prefix_BT``) get a joined form's term
(``prefix_form``) and are reduced with the RL loss whatever ``form`` is; the row's other tokens go
through the clipped loss. With a separate form they are part of ``L_RL``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch import Tensor

from vrft.grpo.kl import kl_penalty
from vrft.grpo.losses import Count, Metrics, aggregate, get_loss
from vrft.registry import Registry

TermFn = Callable[..., Tensor]


@dataclass(frozen=True)
class ExpertForm:
    """How expert rows enter the objective: ``term(logp_BT, adv_B, gamma=...)`` is the per-token
    loss (before masking); ``joined``: reduced with the RL loss (True) or CHORD's mu-weighted SFT."""

    term: TermFn
    joined: bool


EXPERT_FORMS: Registry[ExpertForm] = Registry("expert row form")


def register_expert_form(name: str, *, joined: bool, override: bool = False):
    """Decorator on ``term(logp_BT, adv_B, *, gamma) -> loss_BT``."""
    def wrap(fn: TermFn) -> TermFn:
        EXPERT_FORMS.register(name, ExpertForm(fn, joined), override=override)
        return fn
    return wrap


def get_expert_form(name: str) -> ExpertForm:
    return EXPERT_FORMS.get(name)


def _p(logp_BT: Tensor) -> Tensor:
    return torch.exp(logp_BT.clamp(max=0.0))


@register_expert_form("luffy", joined=True)
def luffy_term(logp_BT: Tensor, adv_B: Tensor, *, gamma: float = 0.1) -> Tensor:
    """``-A * p / (p + gamma)`` (LUFFY's regularised importance sampling, behaviour prob 1)."""
    p_BT = _p(logp_BT)
    return -adv_B.detach()[:, None] * p_BT / (p_BT + gamma)


@register_expert_form("none", joined=True)
def weighted_nll_term(logp_BT: Tensor, adv_B: Tensor, *, gamma: float = 0.1) -> Tensor:
    """``-A * log p`` (no importance weight)."""
    return -adv_B.detach()[:, None] * logp_BT


@register_expert_form("chord", joined=False)
def chord_phi_term(logp_BT: Tensor, adv_B: Tensor, *, gamma: float = 0.1) -> Tensor:
    """``-sg[p (1 - p)] * log p`` (CHORD-phi; the advantage is not used)."""
    p_BT = _p(logp_BT).detach()
    return -(p_BT * (1 - p_BT)) * logp_BT


@register_expert_form("sft", joined=False)
def sft_term(logp_BT: Tensor, adv_B: Tensor, *, gamma: float = 0.1) -> Tensor:
    """``-log p`` (plain SFT on the expert rows)."""
    return -logp_BT


def chord_mu(step: int, *, warmup_steps: int, decay_steps: int, peak: float, valley: float) -> float:
    """CHORD's global SFT coefficient: linear warm-up 0 -> peak over ``warmup_steps``, then cosine
    decay peak -> valley over ``decay_steps``, then ``valley``."""
    if step < warmup_steps:
        return step / warmup_steps * peak
    if step >= warmup_steps + decay_steps:
        return valley
    k = (step - warmup_steps) / decay_steps
    return valley + (peak - valley) * 0.5 * (1 + math.cos(math.pi * k))


def offpolicy_loss(logp_BT: Tensor, old_logp_BT: Tensor, adv_B: Tensor, mask_BT: Tensor, expert_B: Tensor, *,
                   loss: str = "dapo", form: str = "luffy", gamma: float = 0.1, mu: float = 0.0,
                   n_tokens_global: Count = None, n_seqs_global: Count = None,
                   n_expert_tokens_global: Count = None, n_expert_seqs_global: Count = None,
                   max_len: Optional[int] = None, ref_logp_BT: Optional[Tensor] = None, beta: float = 0.0,
                   kl_estimator: str = "k3", prefix_BT: Optional[Tensor] = None, prefix_form: str = "luffy",
                   **loss_kwargs) -> tuple[Tensor, Metrics]:
    """The objective of the module docstring for one micro-batch (its share of the global one).

    ``expert_B`` (B,) bool marks expert rows; every other row goes to ``loss`` with
    ``old_logp_BT``. ``prefix_BT`` (B, T) bool marks expert tokens inside the other rows (Prefix-RFT,
    :mod:`.prefix_rft`): they get ``prefix_form``'s term (a joined form: no ratio, no clip), reduced
    with the RL loss, and leave the clipped loss. ``n_tokens_global`` / ``n_seqs_global`` count all
    live rows of the optimizer step (all ranks), ``n_expert_*`` its expert rows; None: this
    micro-batch's counts."""
    mask_BT = mask_BT.bool()
    expert_B = expert_B.bool().to(mask_BT.device)
    e_mask_BT = mask_BT & expert_B[:, None]
    p_mask_BT = mask_BT & ~expert_B[:, None] & (prefix_BT.bool().to(mask_BT.device) if prefix_BT is not None
                                                 else torch.zeros_like(mask_BT))
    s_mask_BT = mask_BT & ~expert_B[:, None] & ~p_mask_BT
    n_tok = n_tokens_global if n_tokens_global is not None else float(mask_BT.sum())
    n_seq = n_seqs_global if n_seqs_global is not None else float(mask_BT.any(-1).sum())
    n_e_tok = n_expert_tokens_global if n_expert_tokens_global is not None else float(e_mask_BT.sum())
    n_e_seq = n_expert_seqs_global if n_expert_seqs_global is not None else float(e_mask_BT.any(-1).sum())
    spec, p_spec = get_expert_form(form), get_expert_form(prefix_form)
    if not p_spec.joined:
        raise ValueError(f"the prefix form must be joined with the RL loss (luffy, none), got {prefix_form!r}")
    if not spec.joined:  # the RL loss is normalised over the sampled rows alone
        n_tok, n_seq = float(n_tok) - float(n_e_tok), float(n_seq) - float(n_e_seq)
    logp_safe_BT = torch.where(mask_BT, logp_BT, torch.zeros_like(logp_BT))
    rl, metrics = get_loss(loss)(logp_BT, old_logp_BT, adv_B, s_mask_BT, n_tokens_global=n_tok,
                                 n_seqs_global=n_seq, max_len=max_len, ref_logp_BT=ref_logp_BT, beta=beta,
                                 kl_estimator=kl_estimator, **loss_kwargs)
    zeros_BT = torch.zeros_like(logp_BT)
    term_BT = torch.where(e_mask_BT, spec.term(logp_safe_BT, adv_B, gamma=gamma), zeros_BT)
    p_term_BT = torch.where(p_mask_BT, p_spec.term(logp_safe_BT, adv_B, gamma=gamma), zeros_BT)
    # Joined terms (expert rows of a joined form, prefix tokens) are reduced with the RL loss's counts.
    j_mask_BT = p_mask_BT | (e_mask_BT if spec.joined else torch.zeros_like(e_mask_BT))
    j_term_BT = p_term_BT + (term_BT if spec.joined else zeros_BT)
    joined = aggregate(loss, j_term_BT, j_mask_BT, n_tokens_global=n_tok, n_seqs_global=n_seq, max_len=max_len)
    total = rl + joined
    if beta > 0:
        ref_BT = torch.where(j_mask_BT, ref_logp_BT, zeros_BT)
        kl_BT = kl_penalty(torch.where(j_mask_BT, logp_BT, zeros_BT), ref_BT, kl_estimator)
        total = total + beta * aggregate(loss, kl_BT, j_mask_BT, n_tokens_global=n_tok, n_seqs_global=n_seq,
                                         max_len=max_len)
    if spec.joined:
        expert = joined
    else:
        expert = term_BT.sum() / max(float(n_e_tok), 1.0)
        total = (1 - mu) * total + mu * expert
        metrics["offpolicy/chord_mu"] = torch.tensor(float(mu))
    n_e_local = e_mask_BT.sum().clamp(min=1)
    p_BT = _p(logp_safe_BT).detach()
    metrics.update({
        "loss/total": total.detach().float(),
        "offpolicy/expert_loss": expert.detach().float(),
        "offpolicy/expert_token_prob": (torch.where(e_mask_BT, p_BT, torch.zeros_like(p_BT)).sum() / n_e_local).float(),
        "offpolicy/expert_row_frac": (expert_B.sum() / max(expert_B.numel(), 1)).float(),
    })
    if prefix_BT is not None:
        metrics["prefix/token_frac"] = (p_mask_BT.sum() / mask_BT.sum().clamp(min=1)).float()
        metrics["prefix/token_prob"] = (torch.where(p_mask_BT, p_BT, zeros_BT).sum()
                                        / p_mask_BT.sum().clamp(min=1)).float()
    return total, metrics
