"""ReMix's KL-Convex constraint on hand-built tensors: values and gradients of
lam * k3(logp, base) + (1 - lam) * k3(logp, precedent), its reduction into the loss, and the
config checks."""

from __future__ import annotations

import math

import pytest
import torch

from vrft.config import ConfigError, config_from_dict
from vrft.grpo.config_names import CONFIG_REGISTRIES
from vrft.grpo.offpolicy.kl_convex import kl_convex
from vrft.grpo.update import UpdateSettings, _add_kl_convex


def _tensors():
    logp = torch.tensor([[-0.5, -1.0, -2.0], [-0.3, -0.8, -9.0]], requires_grad=True)
    base = torch.tensor([[-0.7, -1.0, -1.5], [-0.2, -1.8, 0.0]])
    prec = torch.tensor([[-0.5, -1.2, -2.5], [-0.1, -0.8, 0.0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool)  # row 1, token 2: padding
    return logp, base, prec, mask


def _k3(l, r):
    return math.exp(r - l) - (r - l) - 1


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0])
def test_kl_convex_values_and_gradients_match_the_formula(lam):
    logp, base, prec, mask = _tensors()
    kl, kl_base, kl_prec = kl_convex(logp, base, prec, mask, lam=lam, estimator="k3")
    for i in range(2):
        for t in range(3):
            l, b, p = logp[i, t].item(), base[i, t].item(), prec[i, t].item()
            want = lam * _k3(l, b) + (1 - lam) * _k3(l, p) if mask[i, t] else 0.0
            assert kl[i, t].item() == pytest.approx(want, abs=1e-6)
            assert kl_base[i, t].item() == pytest.approx(_k3(l, b) if mask[i, t] else 0.0, abs=1e-6)
    assert kl_prec[0, 0] == 0.0  # the policy equals the precedent model there
    kl.sum().backward()
    # d k3(l, r) / dl = 1 - exp(r - l)
    grad = lam * (1 - torch.exp(base - logp.detach())) + (1 - lam) * (1 - torch.exp(prec - logp.detach()))
    assert torch.allclose(logp.grad, grad * mask, atol=1e-6)


def test_kl_convex_is_added_to_the_loss_like_its_own_tokens():
    logp, base, prec, mask = _tensors()
    settings = UpdateSettings(loss="dapo", beta=0.04, kl_estimator="k3", kl_convex=True, kl_lambda=0.25)
    policy_loss = torch.tensor(0.5)
    total, m = _add_kl_convex(policy_loss, {"loss/policy": policy_loss}, logp, base, prec, mask.float(), settings,
                              10.0, 2.0)
    kl, _, _ = kl_convex(logp.detach(), base, prec, mask, lam=0.25)
    assert total.item() == pytest.approx(0.5 + 0.04 * kl.sum().item() / 10.0, rel=1e-6)  # dapo: / global tokens
    assert m["loss/kl"].item() == pytest.approx(kl.sum().item() / 10.0, rel=1e-6)
    assert m["loss/policy"] == 0.5 and m["loss/total"].item() == pytest.approx(total.item())


def test_kl_convex_config_checks():
    def err(overrides):
        with pytest.raises(ConfigError) as info:
            config_from_dict({}, overrides, world_size=1, registries=CONFIG_REGISTRIES)
        return str(info.value)

    assert "algo.beta" in err(["algo.remix.kl_convex=true", "algo.beta=0"])
    assert "algo.remix.kl_lambda" in err(["algo.remix.kl_lambda=1.5"])
    assert "algo.remix.kl_convex" in err(["algo.remix.kl_convex=true", "algo.beta=0.01",
                                          "algo.gt_injection.enabled=true", "algo.offpolicy.expert_form=chord"])
    config_from_dict({}, ["algo.remix.kl_convex=true", "algo.beta=0.01"], world_size=1, registries=CONFIG_REGISTRIES)
