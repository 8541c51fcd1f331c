"""Policy losses and KL estimators against hand-computed values on small tensors."""

from __future__ import annotations

import math

import pytest
import torch

from vrft.grpo.kl import KL_ESTIMATORS, kl_penalty
from vrft.grpo.losses import LOSSES, get_loss, gspo_sequence_log_ratio, truncated_is_weights

ALL_LOSSES = ("grpo", "dapo", "dr_grpo", "gspo")
NAN_ = float("nan")


def _on_policy(B=3, T=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    logp = (-torch.rand(B, T, generator=g) * 3).requires_grad_()
    return logp, logp.detach().clone()


def _lengths_mask(lengths, T):
    return torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]


def test_registry():
    assert set(LOSSES.names()) >= set(ALL_LOSSES)
    with pytest.raises(ValueError, match=r"did you mean 'dapo'.*valid names"):
        get_loss("dapoo")


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_every_loss_takes_the_uniform_call(name):
    logp, old = _on_policy()
    loss, m = get_loss(name)(logp, old, torch.tensor([1.0, -1.0, 0.5]), torch.ones(3, 4, dtype=torch.bool),
                             clip_low=0.2, clip_high=0.28, n_tokens_global=12, n_seqs_global=3,
                             ref_logp_BT=old - 0.1, beta=0.04, kl_estimator="k3",
                             is_weights_BT=torch.ones(3, 4), is_cap=2.0, max_len=4)
    assert loss.dim() == 0 and torch.isfinite(loss)
    for key in ("loss/policy", "loss/kl", "loss/total", "policy/clip_frac", "policy/ratio_mean"):
        assert key in m and not m[key].requires_grad
    assert m["policy/ratio_mean"].item() == pytest.approx(1.0)
    with pytest.raises(TypeError):
        get_loss(name)(logp, old, torch.ones(3), torch.ones(3, 4), clip_hihg=0.3, max_len=4)


def test_grpo_on_policy_identity_value_and_gradient():
    B, T = 3, 4
    logp, old = _on_policy(B, T)
    adv = torch.tensor([1.0, -0.5, 2.0])
    loss, m = get_loss("grpo")(logp, old, adv, torch.ones(B, T))
    assert loss.item() == pytest.approx(-adv.mean().item(), abs=1e-6)
    loss.backward()
    expected = (-adv / (T * B))[:, None].expand(B, T)
    torch.testing.assert_close(logp.grad, expected)
    assert m["policy/clip_frac"].item() == 0.0
    assert "loss/kl" not in m


def test_grpo_n_seqs_global_scales_share():
    logp, old = _on_policy(2, 3)
    adv = torch.tensor([1.0, 3.0])
    loss, _ = get_loss("grpo")(logp, old, adv, torch.ones(2, 3), n_seqs_global=8)
    assert loss.item() == pytest.approx(-4.0 / 8)


def test_grpo_unequal_lengths_and_padding_contribute_nothing():
    mask = _lengths_mask([2, 4], 4)
    logp = torch.tensor([[-1.0, -2.0, NAN_, NAN_], [-1.0, -1.0, -1.0, -1.0]]).requires_grad_()
    old = torch.tensor([[-1.0, -2.0, NAN_, -50.0], [-1.0, -1.0, -1.0, -1.0]])
    adv = torch.tensor([1.0, -2.0])
    loss, m = get_loss("grpo")(logp, old, adv, mask)
    assert loss.item() == pytest.approx(-(1.0 - 2.0) / 2)
    loss.backward()
    assert torch.isfinite(logp.grad).all()
    assert logp.grad[0, 2:].tolist() == [0.0, 0.0]
    # per-sequence mean: each of sequence 0's two tokens gets -1 / (2 * 2)
    torch.testing.assert_close(logp.grad[0, :2], torch.tensor([-0.25, -0.25]))
    torch.testing.assert_close(logp.grad[1], torch.full((4,), 2.0 / (4 * 2)))
    assert m["policy/ratio_mean"].item() == pytest.approx(1.0)



def test_dapo_token_sum_over_global_token_count():
    mask = _lengths_mask([2, 4], 4)
    logp, old = _on_policy(2, 4)
    adv = torch.tensor([1.0, -1.0])
    # numerator: -(1 * 2 tokens + (-1) * 4 tokens) = 2
    loss, _ = get_loss("dapo")(logp, old, adv, mask, n_tokens_global=10)
    assert loss.item() == pytest.approx(0.2)
    loss.backward()
    torch.testing.assert_close(logp.grad, torch.tensor([[-0.1, -0.1, 0, 0], [0.1, 0.1, 0.1, 0.1]]))
    local, _ = get_loss("dapo")(logp, old, adv, mask)  # falls back to the local 6 tokens
    assert local.item() == pytest.approx(2 / 6)
    as_tensor, _ = get_loss("dapo")(logp, old, adv, mask, n_tokens_global=torch.tensor(10))
    assert as_tensor.item() == pytest.approx(0.2)


def test_dapo_micro_batches_sum_to_full_batch():
    logp, old = _on_policy(4, 5, seed=3)
    old = old + 0.05 * torch.randn(4, 5, generator=torch.Generator().manual_seed(1))
    mask = _lengths_mask([5, 2, 3, 4], 5)
    adv = torch.tensor([0.5, -1.0, 2.0, -0.3])
    full, _ = get_loss("dapo")(logp, old, adv, mask, clip_high=0.28)
    n = int(mask.sum())
    parts = sum(get_loss("dapo")(logp[s], old[s], adv[s], mask[s], clip_high=0.28, n_tokens_global=n)[0]
                for s in (slice(0, 1), slice(1, 4)))
    assert parts.item() == pytest.approx(full.item(), abs=1e-6)


def test_dr_grpo_constant_normaliser():
    mask = _lengths_mask([2, 4], 4)
    logp, old = _on_policy(2, 4)
    loss, _ = get_loss("dr_grpo")(logp, old, torch.tensor([1.0, -1.0]), mask, max_len=8)
    assert loss.item() == pytest.approx(2 / (2 * 8))
    loss16, _ = get_loss("dr_grpo")(logp, old, torch.tensor([1.0, -1.0]), mask, max_len=8, n_seqs_global=4)
    assert loss16.item() == pytest.approx(2 / (4 * 8))
    with pytest.raises(ValueError, match="max_len"):
        get_loss("dr_grpo")(logp, old, torch.tensor([1.0, -1.0]), mask)


def test_clip_fraction_both_signs_hand_made():
    # seq 0 (A=+1): ratios 1.5 (clipped high), 0.5 (not clipped: min picks 0.5), 1.0
    # seq 1 (A=-1): ratios 1.5 (not clipped: min picks -1.5), 0.5 (clipped low), 1.1
    ratios = torch.tensor([[1.5, 0.5, 1.0], [1.5, 0.5, 1.1]])
    old = torch.full((2, 3), -1.0)
    logp = (old + ratios.log()).requires_grad_()
    adv = torch.tensor([1.0, -1.0])
    loss, m = get_loss("grpo")(logp, old, adv, torch.ones(2, 3), clip_low=0.2, clip_high=0.2)
    seq0 = -(1.2 + 0.5 + 1.0) / 3
    seq1 = (1.5 + 0.8 + 1.1) / 3
    assert loss.item() == pytest.approx((seq0 + seq1) / 2, abs=1e-6)
    assert m["policy/clip_frac"].item() == pytest.approx(2 / 6)
    assert m["policy/clip_frac_low"].item() == pytest.approx(1 / 6)
    assert m["policy/clip_frac_high"].item() == pytest.approx(1 / 6)
    assert m["policy/ratio_mean"].item() == pytest.approx(6.1 / 6, abs=1e-6)
    assert m["policy/ratio_max"].item() == pytest.approx(1.5, abs=1e-6)
    loss.backward()
    assert logp.grad[0, 0].item() == 0.0 and logp.grad[1, 1].item() == 0.0  # the clipped tokens
    assert (logp.grad[0, 1:] != 0).all() and logp.grad[1, 0] != 0 and logp.grad[1, 2] != 0
    # clip-higher: a wider upper bound un-clips the 1.5 ratio of the positive sequence
    _, m_wide = get_loss("grpo")(logp, old, adv, torch.ones(2, 3), clip_low=0.2, clip_high=0.6)
    assert m_wide["policy/clip_frac_high"].item() == 0.0
    assert m_wide["policy/clip_frac_low"].item() == pytest.approx(1 / 6)


def test_ratio_is_clamped_for_extreme_log_ratios():
    logp = torch.tensor([[0.0]], requires_grad=True)
    old = torch.tensor([[-100.0]])
    _, m = get_loss("grpo")(logp, old, torch.tensor([-1.0]), torch.ones(1, 1))
    assert m["policy/ratio_max"].item() == pytest.approx(math.exp(20), rel=1e-4)


def test_kl_estimator_values_and_gradient():
    logp = torch.tensor([[0.0, -1.0]], requires_grad=True)
    ref = torch.tensor([[-1.0, 0.0]])
    torch.testing.assert_close(kl_penalty(logp, ref, "k1"), torch.tensor([[1.0, -1.0]]))
    torch.testing.assert_close(kl_penalty(logp, ref, "k2"), torch.tensor([[0.5, 0.5]]))
    k3 = kl_penalty(logp, ref, "k3")
    torch.testing.assert_close(k3, torch.tensor([[math.exp(-1), math.e - 2]]))
    k3.sum().backward()  # d/dlogp = 1 - exp(ref - logp)
    torch.testing.assert_close(logp.grad, torch.tensor([[1 - math.exp(-1), 1 - math.e]]))
    assert set(KL_ESTIMATORS.names()) == {"k1", "k2", "k3"}
    with pytest.raises(ValueError, match="valid names"):
        kl_penalty(logp, ref, "k4")


def test_k3_nonnegative_and_zero_at_reference():
    g = torch.Generator().manual_seed(0)
    logp, ref = -torch.rand(4, 8, generator=g) * 5, -torch.rand(4, 8, generator=g) * 5
    assert (kl_penalty(logp, ref, "k3") >= 0).all()
    assert kl_penalty(ref, ref, "k3").abs().max().item() == 0.0


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_kl_added_with_beta_and_same_aggregation(name):
    mask = _lengths_mask([2, 3], 3)
    logp = torch.tensor([[0.0, -1.0, 9.0], [-1.0, -1.0, -1.0]], requires_grad=True)
    old = logp.detach().clone()
    ref = torch.tensor([[-1.0, 0.0, NAN_], [-1.0, -1.0, -1.0]])
    adv = torch.tensor([0.0, 0.0])  # policy term 0: the loss is beta * KL alone
    loss, m = get_loss(name)(logp, old, adv, mask, beta=0.5, ref_logp_BT=ref, max_len=4)
    k3_seq0 = (math.exp(-1) + math.e - 2)  # sequence 1 sits on the reference: k3 = 0
    expected_kl = {"grpo": k3_seq0 / 2 / 2, "gspo": k3_seq0 / 2 / 2, "dapo": k3_seq0 / 5,
                   "dr_grpo": k3_seq0 / (2 * 4)}[name]
    assert m["loss/kl"].item() == pytest.approx(expected_kl, rel=1e-5)
    assert loss.item() == pytest.approx(0.5 * expected_kl, rel=1e-5)
    assert m["loss/policy"].item() == 0.0
    with pytest.raises(ValueError, match="ref_logp_BT"):
        get_loss(name)(logp, old, adv, mask, beta=0.1, max_len=4)
    with pytest.raises(ValueError, match="beta"):
        get_loss(name)(logp, old, adv, mask, beta=-0.1, ref_logp_BT=ref, max_len=4)


def test_gspo_sequence_ratio_and_metrics():
    mask = _lengths_mask([2, 3], 3)
    old = torch.full((2, 3), -1.0)
    logp = old + torch.tensor([[0.1, 0.3, 7.0], [-0.2, 0.0, 0.5]])
    log_s = gspo_sequence_log_ratio(logp, old, mask)
    torch.testing.assert_close(log_s, torch.tensor([0.2, 0.1]))
    _, m = get_loss("gspo")(logp, old, torch.tensor([1.0, 1.0]), mask, clip_low=0.5, clip_high=0.5)
    assert m["policy/ratio_mean"].item() == pytest.approx((math.exp(0.2) + math.exp(0.1)) / 2, rel=1e-6)
    assert m["policy/clip_frac"].item() == 0.0
    # a tight range clips sequence 0 (s = e^0.2 > 1.15 with A > 0) as a whole, not sequence 1 (e^0.1)
    _, m = get_loss("gspo")(logp, old, torch.tensor([1.0, 1.0]), mask, clip_low=0.15, clip_high=0.15)
    assert m["policy/seq_clip_frac"].item() == pytest.approx(0.5)
    assert m["policy/clip_frac"].item() == pytest.approx(2 / 5)


def _gspo_sequence_form(logp, old, adv, mask, lo, hi):
    """GSPO as written in the paper's sequence form, for comparison."""
    m = mask.float()
    log_s = ((logp - old) * m).sum(-1) / m.sum(-1)
    s = log_s.exp()
    return -torch.minimum(s * adv, s.clamp(1 - lo, 1 + hi) * adv).mean()


@pytest.mark.parametrize("lo,hi", [(0.5, 0.5), (0.02, 0.03)])
def test_gspo_token_form_matches_sequence_form_value_and_gradient(lo, hi):
    g = torch.Generator().manual_seed(7)
    mask = _lengths_mask([4, 2, 3], 4)
    old = -torch.rand(3, 4, generator=g) * 2
    base = (old + 0.1 * torch.randn(3, 4, generator=g))
    adv = torch.tensor([1.0, -0.7, 0.4])
    a = base.clone().requires_grad_()
    loss, _ = get_loss("gspo")(a, old, adv, mask, clip_low=lo, clip_high=hi)
    loss.backward()
    b = base.clone().requires_grad_()
    ref = _gspo_sequence_form(b, old, adv, mask, lo, hi)
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), abs=1e-6)
    torch.testing.assert_close(a.grad, b.grad * mask)


def test_is_weights_scale_the_policy_surrogate():
    logp, old = _on_policy(1, 2)
    w = torch.tensor([[3.0, 0.5]])
    adv = torch.tensor([1.0])
    loss, m = get_loss("grpo")(logp, old, adv, torch.ones(1, 2), is_weights_BT=w)
    assert loss.item() == pytest.approx(-(3.0 + 0.5) / 2)
    assert m["policy/is_weight_mean"].item() == pytest.approx(1.75)
    capped, _ = get_loss("grpo")(logp, old, adv, torch.ones(1, 2), is_weights_BT=w, is_cap=2.0)
    assert capped.item() == pytest.approx(-(2.0 + 0.5) / 2)


def test_truncated_is_weights():
    old = torch.tensor([[-1.0, -1.0, -1.0]])
    sampler = torch.tensor([[-1.5, -0.5, -3.0]])
    w = truncated_is_weights(old, sampler, cap=2.0, mask_BT=torch.tensor([[True, True, False]]))
    torch.testing.assert_close(w, torch.tensor([[math.exp(0.5), math.exp(-0.5), 1.0]]))
    assert truncated_is_weights(old, sampler, cap=1.2)[0, 0].item() == pytest.approx(1.2)


def test_shape_and_clip_errors():
    logp, old = _on_policy(2, 3)
    with pytest.raises(ValueError, match="adv_B"):
        get_loss("grpo")(logp, old, torch.ones(3), torch.ones(2, 3))
    with pytest.raises(ValueError, match="share one"):
        get_loss("grpo")(logp, old, torch.ones(2), torch.ones(2, 4))
    with pytest.raises(ValueError, match="clip_low"):
        get_loss("grpo")(logp, old, torch.ones(2), torch.ones(2, 3), clip_low=1.0)


def test_empty_mask_is_finite_zero():
    logp, old = _on_policy(2, 3)
    for name in ALL_LOSSES:
        loss, m = get_loss(name)(logp, old, torch.ones(2), torch.zeros(2, 3), max_len=3)
        assert loss.item() == 0.0 and all(torch.isfinite(v) for v in m.values())
