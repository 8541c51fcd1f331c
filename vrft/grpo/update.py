"""The policy-gradient update of one step: mu epochs over mini-batches of the rollout batch.

Each mini-batch is one optimizer step, split into micro-batches whose gradients accumulate. Loss
normalisation is exact under accumulation and across ranks: the losses receive the mini-batch's
global sequence and token counts (summed over ranks), so each micro-batch's loss is its share of
the global loss; the sum is multiplied by the world size because DDP / FSDP average gradients.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vrft.grpo.losses import aggregate, get_loss
from vrft.grpo.offpolicy.kl_convex import kl_convex
from vrft.grpo.offpolicy.objective import offpolicy_loss
from vrft.grpo.offpolicy.prefix_rft import select_prefix_tokens
from vrft.parallel.backend import TrainBackend
from vrft.policy.policy import Policy
from vrft.rollout import EXPERT, RolloutBatch


@dataclass
class UpdateSettings:
    loss: str = "grpo"
    clip_low: float = 0.2
    clip_high: float = 0.2
    beta: float = 0.0
    kl_estimator: str = "k3"
    mu: int = 1
    mini_batch_size: int = 0  # per rank; 0: the whole batch in one optimizer step
    micro_batch_size: int = 8  # per rank
    is_cap: float = 2.0
    grad_clip: float = 1.0
    temperature: float = 1.0
    max_new_tokens: int = 64
    shared_prefix: bool = True  # score each prompt's group packed, the prompt once (vrft.policy.shared_prefix)
    expert_form: str = "luffy"  # how expert rows are trained (vrft.grpo.offpolicy.objective)
    gamma: float = 0.1  # LUFFY's policy-shaping gamma
    chord_mu: float = 0.0  # CHORD's global SFT coefficient this step
    prefix_form: str = "luffy"  # Prefix-RFT: the expert form of the selected prefix tokens
    prefix_top_frac: float = 0.2  # Prefix-RFT: the fraction of each row's prefix tokens trained (highest entropy)
    kl_convex: bool = False  # ReMix: the KL term is lam * KL(base) + (1 - lam) * KL(precedent)
    kl_lambda: float = 0.5


def pad_right(rows: list[torch.Tensor], value: float = 0.0,
              device: torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T) rows padded with `value` and their (B, T) float mask, on `device` (default: the
    first row's device)."""
    device = device if device is not None else rows[0].device
    t = max(int(r.shape[0]) for r in rows)
    out = torch.full((len(rows), t), value, dtype=rows[0].dtype, device=device)
    mask = torch.zeros((len(rows), t), dtype=torch.float32, device=device)
    for i, r in enumerate(rows):
        out[i, :r.shape[0]] = r
        mask[i, :r.shape[0]] = 1.0
    return out, mask


def n_loss_tokens(completion) -> int:
    """Tokens of a completion that carry loss (multi-turn completions mask observation tokens)."""
    mask = getattr(completion, "loss_mask", None)
    return int(mask.sum()) if mask is not None else int(completion.shape[0])


def checkpointing_train_mode(model) -> None:
    """Put `model` in train mode when it has gradient checkpointing on: Hugging Face layers only
    checkpoint in train mode, and `from_pretrained` returns models in eval mode (so the setting
    would do nothing). Without checkpointing the mode is left alone."""
    if not model.training and any(getattr(m, "gradient_checkpointing", False) is True for m in model.modules()):
        model.train()


def _micro_logprobs(policy: Policy, batch: RolloutBatch, idx: list[int], temperature: float, model=None,
                    shared_prefix: bool = False):
    """Log-probs of rows `idx`, encoding each distinct prompt's media once for the micro-batch."""
    checkpointing_train_mode(policy.model)
    distinct = sorted({batch.seq_prompt[i] for i in idx})
    remap = {p: k for k, p in enumerate(distinct)}
    out = policy.logprobs([batch.prompts[p] for p in distinct], [remap[batch.seq_prompt[i]] for i in idx],
                          [batch.completions[i] for i in idx], temperature=temperature, micro_batch=len(idx),
                          with_entropy=True, shared_prefix=shared_prefix)
    return out


def _add_kl_convex(loss, lm, logp_BT, ref_BT, prec_BT, mask_BT, settings: UpdateSettings, n_tok, n_seq):
    """``loss + beta * KL_cvx`` reduced like the loss's own tokens over every loss token
    (:mod:`vrft.grpo.offpolicy.kl_convex`), and its metrics."""
    kl_BT, base_BT, prec_kl_BT = kl_convex(logp_BT, ref_BT, prec_BT, mask_BT, lam=settings.kl_lambda,
                                           estimator=settings.kl_estimator)
    red = {"n_tokens_global": n_tok, "n_seqs_global": n_seq, "max_len": settings.max_new_tokens}
    kl = aggregate(settings.loss, kl_BT, mask_BT, **red)
    total = loss + settings.beta * kl
    lm = {**lm, "loss/kl": kl.detach().float(), "loss/total": total.detach().float(),
          "remix/kl_base": aggregate(settings.loss, base_BT, mask_BT, **red).detach().float(),
          "remix/kl_precedent": aggregate(settings.loss, prec_kl_BT, mask_BT, **red).detach().float()}
    return total, lm


def policy_update(policy: Policy, batch: RolloutBatch, adv_B: torch.Tensor, loss_mask_B: torch.Tensor,
                  backend: TrainBackend, settings: UpdateSettings, *,
                  old_logps: list[torch.Tensor] | None = None, ref_logps: list[torch.Tensor] | None = None,
                  is_weights: list[torch.Tensor] | None = None,
                  prec_logps: list[torch.Tensor] | None = None) -> dict[str, float]:
    """Run mu epochs of clipped policy-gradient steps; return averaged metrics.

    `old_logps[i]` is row i's behaviour log-probs (None: on-policy). `prec_logps[i]`: row i's
    log-probs under the policy before this update (ReMix's KL-Convex constraint, `settings.kl_convex`).
    Expert rows (`batch.behaviour`) and expert tokens inside rows (`batch.expert_tokens`, Prefix-RFT)
    take no ratio: a batch holding any goes through :func:`vrft.grpo.offpolicy.objective.offpolicy_loss`.
    Rows whose `loss_mask_B` is 0 (errored rewards, masked truncations) stay in the micro-batches
    with a zero token mask, so every rank runs the same number of forward/backward passes (the
    collectives of DDP / FSDP / DeepSpeed must line up) while contributing nothing. The backend
    owns gradient synchronisation, backward, clipping and the optimizer step."""
    loss_fn = get_loss(settings.loss)
    rows = list(range(len(batch.completions)))
    expert = [b == EXPERT for b in batch.behaviour]
    # expert tokens inside policy / old rows (Prefix-RFT); None when the batch has none
    prefix = batch.expert_tokens if any(t is not None for t in batch.expert_tokens) else None
    mixed = any(expert) or prefix is not None
    metrics: dict[str, list[float]] = {}
    mb = settings.mini_batch_size or len(rows)
    n_steps = 0
    for _epoch in range(settings.mu):
        for s in range(0, len(rows), mb):
            mini = rows[s:s + mb]
            live = [i for i in mini if loss_mask_B[i] > 0]
            live_e = [i for i in live if expert[i]]
            local = torch.tensor([float(sum(n_loss_tokens(batch.completions[i]) for i in live)), float(len(live)),
                                  float(sum(n_loss_tokens(batch.completions[i]) for i in live_e)), float(len(live_e))],
                                 dtype=torch.float64)
            n_tok_global, n_seq_global, n_tok_expert, n_seq_expert = backend.reduce_sum(local).tolist()
            if n_seq_global == 0:  # nothing trainable on any rank: skip together
                metrics.setdefault("train/skipped_empty", []).append(1.0)
                continue
            micro = [mini[k:k + settings.micro_batch_size] for k in range(0, len(mini), settings.micro_batch_size)]
            backend.zero_grad()
            for m_i, idx in enumerate(micro):
                with backend.accumulating(last=m_i == len(micro) - 1):
                    with backend.autocast():  # the forward in bf16 under mixed precision; log-probs come out fp32
                        out = _micro_logprobs(policy, batch, idx, settings.temperature,
                                              shared_prefix=settings.shared_prefix)
                    # The loss runs where the model's log-probs are; everything joining them moves there.
                    logp_BT, mask_BT = pad_right(out.logprobs)
                    dev = logp_BT.device
                    mask_BT = mask_BT * loss_mask_B[idx].float().to(dev)[:, None]
                    if out.loss_masks is not None:  # observation tokens of multi-turn rows
                        mask_BT = mask_BT * pad_right(out.loss_masks, device=dev)[0]
                    # on-policy rows (old_logps None or None for the row): ratio 1 with the right gradient
                    old_BT = logp_BT.detach().clone()
                    if old_logps is not None:
                        for k, i in enumerate(idx):
                            if old_logps[i] is not None:
                                old_BT[k, :old_logps[i].shape[0]] = old_logps[i].to(dev)
                    ref_BT = pad_right([ref_logps[i] for i in idx], device=dev)[0] if ref_logps is not None else None
                    is_BT = pad_right([is_weights[i] for i in idx], 1.0, device=dev)[0] \
                        if is_weights is not None else None
                    cvx = settings.kl_convex and settings.beta > 0  # the KL term is added below, not by the loss
                    kw = dict(clip_low=settings.clip_low, clip_high=settings.clip_high, n_tokens_global=n_tok_global,
                              ref_logp_BT=None if cvx else ref_BT, beta=0.0 if cvx else settings.beta,
                              kl_estimator=settings.kl_estimator, n_seqs_global=n_seq_global,
                              max_len=settings.max_new_tokens, is_weights_BT=is_BT)
                    prefix_BT = None
                    if prefix is not None:  # the prefix tokens that carry loss: the highest-entropy ones
                        rows_p = [prefix[i] if prefix[i] is not None else torch.zeros(int(logp_BT.shape[1]))
                                  for i in idx]
                        prefix_BT = pad_right([r.float() for r in rows_p], device=dev)[0][:, :logp_BT.shape[1]].bool()
                        prefix_BT = prefix_BT & mask_BT.bool()
                        keep_BT = select_prefix_tokens(prefix_BT, pad_right(out.entropy, device=dev)[0],
                                                       settings.prefix_top_frac)
                        mask_BT = mask_BT * (~prefix_BT | keep_BT).float()
                        prefix_BT = keep_BT
                    if mixed:
                        loss, lm = offpolicy_loss(
                            logp_BT, old_BT, adv_B[idx].to(dev), mask_BT, torch.tensor([expert[i] for i in idx]),
                            loss=settings.loss, form=settings.expert_form, gamma=settings.gamma, mu=settings.chord_mu,
                            n_expert_tokens_global=n_tok_expert, n_expert_seqs_global=n_seq_expert,
                            prefix_BT=prefix_BT, prefix_form=settings.prefix_form, **kw)
                    else:
                        loss, lm = loss_fn(logp_BT, old_BT, adv_B[idx].to(dev), mask_BT, **kw)
                    if cvx:
                        prec_BT = pad_right([prec_logps[i] for i in idx], device=dev)[0]
                        loss, lm = _add_kl_convex(loss, lm, logp_BT, ref_BT, prec_BT, mask_BT, settings,
                                                  n_tok_global, n_seq_global)
                    backend.backward(loss)  # each micro-batch's loss is its share of the global loss
                if any(loss_mask_B[i] > 0 for i in idx):
                    for k, v in lm.items():
                        metrics.setdefault(k, []).append(float(v))
                    if out.entropy:
                        metrics.setdefault("policy/entropy", []).append(float(torch.cat(out.entropy).mean()))
            gnorm, stepped = backend.optimizer_step(settings.grad_clip)
            metrics.setdefault("train/grad_norm", []).append(gnorm)
            if not stepped:
                metrics.setdefault("train/nonfinite", []).append(1.0)
                continue
            n_steps += 1
    backend.scheduler_step()
    result = {k: sum(v) / len(v) for k, v in metrics.items()}
    result["train/optimizer_steps"] = float(n_steps)
    result["train/lr"] = backend.lr
    return result
