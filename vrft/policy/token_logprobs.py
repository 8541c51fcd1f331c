"""The per-token log-prob and entropy of targets under logits: the math shared by the padded path
(:mod:`vrft.policy.logprobs`) and the packed shared-prefix path (:mod:`vrft.policy.shared_prefix`).

Reduced with ``logsumexp`` (no stored full-vocabulary log-softmax); logits are divided by the
sampling temperature and the sampler's suppressed tokens are masked, as the sampler did.
"""

from __future__ import annotations

import torch


def token_logprobs_from_logits(logits_BTV: torch.Tensor, targets_BT: torch.Tensor, temperature: float,
                               suppress_ids: torch.Tensor | None, with_entropy: bool):
    """Log-prob of each target token (and, with ``with_entropy``, the entropy) under ``logits / temperature``
    with the ``suppress_ids`` tokens masked out: ``(B, T, V), (B, T) -> (B, T), (B, T) | None``."""
    logits_BTV = logits_BTV.float()
    if temperature not in (0.0, 1.0):
        logits_BTV = logits_BTV / temperature
    if suppress_ids is not None and suppress_ids.numel():
        logits_BTV = logits_BTV.index_fill(-1, suppress_ids.to(logits_BTV.device), float("-inf"))
    lse_BT = torch.logsumexp(logits_BTV, -1)
    logp_BT = logits_BTV.gather(-1, targets_BT[..., None])[..., 0] - lse_BT
    ent_BT = None
    if with_entropy:
        with torch.no_grad():
            p = torch.softmax(logits_BTV, -1)
            ent_BT = -(p * torch.log_softmax(logits_BTV, -1).nan_to_num(0.0, 0.0, 0.0)).sum(-1)
    return logp_BT, ent_BT
