"""Per-token estimators of KL(pi_theta || pi_ref) from log-probs of the sampled tokens.

With ``d = ref_logp - logp`` (the log of pi_ref / pi_theta at the sampled token), following
Schulman, "Approximating KL Divergence" (2020):

- ``k1 = -d = logp - ref_logp``: unbiased, high variance, can be negative.
- ``k2 = 0.5 * d**2``: biased, low variance; its gradient is the gradient of the true KL's
  second-order expansion.
- ``k3 = exp(d) - d - 1``: unbiased, always >= 0, low variance (the GRPO paper's choice).
  ``d`` is clamped to [-20, 20] before ``exp`` so a far-off token cannot overflow.

Each returns a (B, T) tensor; padding positions are the caller's to mask (the losses do). Gradients
flow through ``logp`` only; ``ref_logp`` comes from a frozen model and is detached here.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from vrft.registry import Registry

KLFn = Callable[[Tensor, Tensor], Tensor]
KL_ESTIMATORS: Registry[KLFn] = Registry("KL estimator")

LOG_RATIO_CLAMP = 20.0


@KL_ESTIMATORS.register("k1")
def kl_k1(logp_BT: Tensor, ref_logp_BT: Tensor) -> Tensor:
    return logp_BT - ref_logp_BT.detach()


@KL_ESTIMATORS.register("k2")
def kl_k2(logp_BT: Tensor, ref_logp_BT: Tensor) -> Tensor:
    return 0.5 * (logp_BT - ref_logp_BT.detach()) ** 2


@KL_ESTIMATORS.register("k3")
def kl_k3(logp_BT: Tensor, ref_logp_BT: Tensor) -> Tensor:
    d_BT = (ref_logp_BT.detach() - logp_BT).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    return torch.exp(d_BT) - d_BT - 1


def kl_penalty(logp_BT: Tensor, ref_logp_BT: Tensor, estimator: str = "k3") -> Tensor:
    """Per-token KL estimate (B, T) by the estimator named ``estimator`` (k1 | k2 | k3)."""
    if logp_BT.shape != ref_logp_BT.shape:
        raise ValueError(f"logp_BT {tuple(logp_BT.shape)} and ref_logp_BT {tuple(ref_logp_BT.shape)} "
                         f"must have the same shape")
    return KL_ESTIMATORS.get(estimator)(logp_BT, ref_logp_BT)
