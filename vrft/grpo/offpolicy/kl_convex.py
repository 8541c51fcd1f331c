"""ReMix's KL-Convex policy constraint (arXiv 2507.06892): the KL penalty combines the constraint
on the base model (stability: do not drift from where training started) with the constraint on the
precedent model (flexibility: a trust region around the policy of the previous update), as a
convex combination::

    KL_cvx,t = lam * k(logp_t, logp_base,t) + (1 - lam) * k(logp_t, logp_prec,t)
    L = L_policy + beta * aggregate(KL_cvx)

``k`` is the configured per-token estimator (:mod:`vrft.grpo.kl`, k3 by default), ``logp_base`` the
frozen reference model's log-probs (the base model), ``logp_prec`` the policy's own log-probs before
this step's update, computed on every row of the step (``policy`` rows and replayed ``old`` rows
alike: the precedent model is the same for both, whatever policy sampled the row). ``lam`` is
``algo.remix.kl_lambda`` and ``beta`` is ``algo.beta``; ``lam = 1`` is the plain KL to the base.

With one optimizer step per batch the precedent term is 0 with gradient 0 at the first forward
(the policy *is* the precedent model); it acts from the second optimizer step of a batch on
(``algo.mu`` > 1, ``algo.mini_batch_size``, or the extra steps of replayed rows).
"""

from __future__ import annotations

from torch import Tensor

from vrft.grpo.kl import kl_penalty


def kl_convex(logp_BT: Tensor, base_logp_BT: Tensor, prec_logp_BT: Tensor, mask_BT: Tensor, *, lam: float,
              estimator: str = "k3") -> tuple[Tensor, Tensor, Tensor]:
    """Per-token ``(KL_cvx, k(., base), k(., precedent))``, each 0 off ``mask_BT`` (fp32 in, fp32 out)."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"the KL-convex weight must be in [0, 1], got {lam}")
    mask_BT = mask_BT.bool()
    zero_BT = logp_BT.new_zeros(())

    def term(ref_BT: Tensor) -> Tensor:
        kl_BT = kl_penalty(logp_BT.masked_fill(~mask_BT, 0.0), ref_BT.detach().masked_fill(~mask_BT, 0.0),
                           estimator)
        return kl_BT.where(mask_BT, zero_BT)

    base_BT, prec_BT = term(base_logp_BT), term(prec_logp_BT)
    return lam * base_BT + (1.0 - lam) * prec_BT, base_BT, prec_BT
