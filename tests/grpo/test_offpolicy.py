"""Off-policy rows (expert / old) against the papers' formulas on hand-built tensors: values and
gradients of each expert form, no clipping of expert rows, stored behaviour log-probs in the ratio,
advantages and the mixture signal untouched by expert rows, CHORD's mu schedule."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from vrft.config.training import AlgoConfig
from vrft.data.sample import Sample
from vrft.grpo.advantages import get_advantage
from vrft.grpo.losses import aggregate, get_loss
from vrft.grpo.offpolicy.advantage import get_expert_advantage
from vrft.grpo.offpolicy.objective import EXPERT_FORMS, chord_mu, offpolicy_loss
from vrft.grpo.offpolicy.recipe import OffPolicy, behaviour_logps
from vrft.grpo.step_stats import group_outcomes
from vrft.rollout.batch import RolloutBatch

GAMMA = 0.1


def _tensors():
    """4 rows x 3 tokens: rows 0-2 sampled (row 2 has 2 tokens), row 3 expert."""
    logp = torch.tensor([[-0.5, -1.0, -0.2], [-2.0, -0.1, -0.3], [-0.7, -1.5, 0.0], [-3.0, -0.05, -1.2]],
                        requires_grad=True)
    mask = torch.tensor([[1, 1, 1], [1, 1, 1], [1, 1, 0], [1, 1, 1]], dtype=torch.bool)
    adv = torch.tensor([1.0, -0.5, 0.3, 2.0])
    expert = torch.tensor([False, False, False, True])
    return logp, mask, adv, expert


def test_registered_forms():
    assert set(EXPERT_FORMS.names()) >= {"luffy", "none", "chord", "sft"}
    with pytest.raises(ValueError, match="valid names"):
        offpolicy_loss(*_tensors()[:1], torch.zeros(4, 3), *_tensors()[2:3], torch.ones(4, 3), torch.zeros(4),
                       form="lufy")


@pytest.mark.parametrize("loss", ["dapo", "grpo"])
def test_luffy_value_and_gradient_match_the_formula(loss):
    logp, mask, adv, expert = _tensors()
    old = logp.detach().clone()
    total, m = offpolicy_loss(logp, old, adv, mask, expert, loss=loss, form="luffy", gamma=GAMMA)
    # by hand: on-policy rows (ratio 1) give -A per token; the expert row -A * p / (p + gamma)
    p = logp.detach().exp()
    n_tok, n_seq = mask.sum().item(), 4
    if loss == "dapo":
        rl = -(adv[:3, None] * mask[:3]).sum() / n_tok
        ex = -(adv[3] * p[3] / (p[3] + GAMMA)).sum() / n_tok
        w_tok = torch.full((4, 3), 1.0 / n_tok)
    else:
        lens = mask.sum(-1).float()
        rl = -(adv[:3]).sum() / n_seq
        ex = -(adv[3] * p[3] / (p[3] + GAMMA)).sum() / lens[3] / n_seq
        w_tok = (1.0 / lens / n_seq)[:, None].expand(4, 3)
    assert torch.allclose(total, rl + ex, atol=1e-6)
    total.backward()
    grad = torch.zeros(4, 3)
    grad[:3] = -adv[:3, None] * w_tok[:3]
    # d/dlogp of -A p/(p+g) = -A * g p / (p+g)^2
    grad[3] = -adv[3] * GAMMA * p[3] / (p[3] + GAMMA) ** 2 * w_tok[3]
    assert torch.allclose(logp.grad, grad * mask, atol=1e-6)


def test_expert_row_gets_no_clipping_and_ignores_old_logps():
    logp, mask, adv, expert = _tensors()
    grads = []
    for shift in (0.0, 5.0, -5.0):  # an expert row's "old" log-probs are meaningless: ratio e^5 or e^-5
        lp = logp.detach().clone().requires_grad_()
        old = lp.detach().clone()
        old[3] += shift
        total, m = offpolicy_loss(lp, old, adv, mask, expert, loss="dapo", form="luffy", gamma=GAMMA,
                                  clip_low=0.2, clip_high=0.2)
        total.backward()
        grads.append(lp.grad[3].clone())
        assert m["policy/clip_frac"] == 0.0  # the clip never sees the expert row
    assert torch.allclose(grads[0], grads[1]) and torch.allclose(grads[0], grads[2])
    assert (grads[0].abs() > 0).all()  # a plain PPO clip at ratio e^5 with A > 0 would zero this


def test_none_form_is_advantage_weighted_log_likelihood():
    logp, mask, adv, expert = _tensors()
    total, _ = offpolicy_loss(logp, logp.detach(), adv, mask, expert, loss="dapo", form="none")
    total.backward()
    n_tok = mask.sum().item()
    assert torch.allclose(logp.grad[3], torch.full((3,), -adv[3].item() / n_tok))


@pytest.mark.parametrize("form", ["chord", "sft"])
def test_chord_mixes_rl_and_phi_weighted_sft_by_mu(form):
    logp, mask, adv, expert = _tensors()
    mu = 0.3
    total, m = offpolicy_loss(logp, logp.detach(), adv, mask, expert, loss="dapo", form=form, mu=mu)
    p = logp.detach().exp()
    phi = p[3] * (1 - p[3]) if form == "chord" else torch.ones(3)
    n_s, n_e = mask[:3].sum().item(), mask[3].sum().item()  # the RL part over sampled tokens only
    rl = -(adv[:3, None] * mask[:3]).sum() / n_s
    sft = -(phi * logp.detach()[3]).sum() / n_e
    assert torch.allclose(total, (1 - mu) * rl + mu * sft, atol=1e-6)
    assert m["offpolicy/chord_mu"] == pytest.approx(mu)
    total.backward()
    assert torch.allclose(logp.grad[3], -mu * phi / n_e, atol=1e-6)  # phi is a weight, not differentiated
    assert torch.allclose(logp.grad[0], torch.full((3,), -(1 - mu) * adv[0].item() / n_s), atol=1e-6)


def test_no_expert_rows_equals_the_base_loss():
    logp, mask, adv, _ = _tensors()
    old = logp.detach() - 0.1
    none = torch.zeros(4, dtype=torch.bool)
    a, _ = offpolicy_loss(logp, old, adv, mask, none, loss="dapo", form="luffy")
    b, _ = get_loss("dapo")(logp, old, adv, mask)
    assert torch.allclose(a, b)


def test_aggregate_matches_each_loss_on_policy():
    logp, mask, adv, _ = _tensors()
    for name in ("grpo", "dapo", "dr_grpo"):
        ref, _ = get_loss(name)(logp, logp.detach(), adv, mask, max_len=3)
        x = -adv[:, None].expand(4, 3).clone()
        assert torch.allclose(aggregate(name, x, mask, max_len=3), ref, atol=1e-6)


def test_old_rows_take_the_ratio_against_their_stored_logps():
    batch = SimpleNamespace(behaviour=["policy", "old", "expert"],
                            behaviour_logprobs=[None, torch.tensor([-1.0, -2.0]), None])
    current = [torch.zeros(2), torch.zeros(2), torch.zeros(2)]
    out = behaviour_logps(batch, current)
    assert out[0] is current[0] and torch.equal(out[1], torch.tensor([-1.0, -2.0]))
    with pytest.raises(ValueError, match="stored behaviour"):
        behaviour_logps(SimpleNamespace(behaviour=["old"], behaviour_logprobs=[None]), None)
    # the ratio exp(logp - stored) weighs the gradient, and the clip applies to it
    logp = torch.tensor([[-0.5, -1.5]], requires_grad=True)
    stored = torch.tensor([[-1.0, -1.0]])
    total, _ = offpolicy_loss(logp, stored, torch.tensor([1.0]), torch.ones(1, 2, dtype=torch.bool),
                              torch.tensor([False]), loss="dapo", clip_low=0.2, clip_high=0.28)
    total.backward()
    r = torch.exp(logp.detach() - stored)[0]  # e^0.5 = 1.65 (clipped, A > 0: no gradient), e^-0.5
    assert logp.grad[0, 0] == 0.0
    assert torch.allclose(logp.grad[0, 1], -r[1] / 2)


def _batch(rewards, behaviour, group):
    b = len(rewards)
    samples = [Sample(id=f"s{k}", dataset="color", task="vqa", prompt="q", solution={}) for k in range(max(group) + 1)]
    return RolloutBatch(samples=samples, prompts=[None] * len(samples), seq_prompt=list(group),
                        completions=[torch.zeros(2, dtype=torch.long)] * b, sampler_logprobs=[None] * b,
                        texts=[""] * b, finish_reasons=["eos"] * b, behaviour=list(behaviour),
                        rewards=torch.tensor(rewards), valid=torch.ones(b, dtype=torch.bool))


def _all_advantages(batch, **offpolicy):
    """(advantages to train on, metrics, the sampled rows' advantages the mixture learner reads)."""
    algo = AlgoConfig()
    for k, v in offpolicy.items():
        setattr(algo.offpolicy, k, v)
    return OffPolicy(algo).advantages(batch, batch.rewards, rank=0, groups_per_rank=[len(batch.samples)],
                                      reduce_sum=lambda t: t)


def _advantages(batch, **offpolicy):
    return _all_advantages(batch, **offpolicy)[:2]


def _signal(batch, **offpolicy):
    return _all_advantages(batch, **offpolicy)[2]


def test_expert_rows_stay_out_of_group_statistics_and_the_mixture_signal():
    group = [0, 0, 0, 0, 1, 1, 1, 1]
    kinds = ["policy"] * 3 + ["expert"] + ["policy"] * 3 + ["expert"]
    base = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    adv_a, _ = _advantages(_batch(base, kinds, group))
    changed = list(base)
    changed[3], changed[7] = 0.0, 0.5
    adv_b, _ = _advantages(_batch(changed, kinds, group))
    sampled = [i for i, k in enumerate(kinds) if k == "policy"]
    ref, _ = get_advantage("grpo")(torch.tensor([base[i] for i in sampled]), torch.tensor([group[i] for i in sampled]))
    assert torch.allclose(adv_a[sampled], ref) and torch.allclose(adv_b[sampled], ref)
    # relative rule: group 0 (mean 1/3, std 0.577) -> (1 - 1/3) / 0.577; group 1 all failed (std 0) -> +cap
    assert adv_a[3] == pytest.approx((1 - 1 / 3) / math.sqrt(1 / 3), rel=1e-4)
    assert adv_a[7] == pytest.approx(3.0)
    out_a = group_outcomes(_batch(base, kinds, group), adv_a)
    out_b = group_outcomes(_batch(changed, kinds, group), adv_b)
    assert out_a == out_b  # the mixture learns from sampled rows only


def test_mixed_group_baseline_counts_the_expert_in_the_statistics():
    """group_baseline: mixed (TempSamp-R1's mixed-policy GRPO): all four rows in the mean and std,
    so three failed samples against a successful expert get (0 - 1/4) / std each; the mixture
    signal still comes from the sampled rows alone."""
    kinds, group = ["policy"] * 3 + ["expert"], [0, 0, 0, 0]
    rewards = [0.0, 0.0, 0.0, 1.0]
    adv, m = _advantages(_batch(rewards, kinds, group), group_baseline="mixed")
    std = math.sqrt((3 * 0.25 ** 2 + 0.75 ** 2) / 3)  # unbiased, as GRPO
    assert adv[:3].tolist() == pytest.approx([-0.25 / std] * 3, rel=1e-4)
    assert adv[3] == pytest.approx(0.75 / std, rel=1e-4) and m["adv/expert_mean"] == pytest.approx(0.75 / std, rel=1e-4)
    sampled_only, _ = _advantages(_batch(rewards, kinds, group))
    assert sampled_only[:3].tolist() == [0.0, 0.0, 0.0]  # the default: no signal among equal samples
    signal = _signal(_batch(rewards, kinds, group), group_baseline="mixed")
    assert signal[:3].tolist() == [0.0, 0.0, 0.0]  # what the mixture learner reads: the sampled rows alone


def test_fixed_expert_advantage_and_cap():
    batch = _batch([0.0, 0.0, 1.0], ["policy", "policy", "expert"], [0, 0, 0])
    adv, m = _advantages(batch, expert_advantage="fixed", expert_advantage_value=0.7)
    assert adv[2] == pytest.approx(0.7) and adv[0] == 0.0 and m["adv/expert_mean"] == pytest.approx(0.7)
    rule = get_expert_advantage("relative")
    out = rule(torch.tensor([0.0, 0.0, 1.0]), torch.tensor([0, 0, 0]), torch.tensor([True, True, False]),
               torch.tensor([False, False, True]), cap=1.5)
    assert out.tolist() == [0.0, 0.0, 1.5]


def test_chord_mu_schedule():
    kw = dict(warmup_steps=10, decay_steps=20, peak=0.8, valley=0.1)
    assert chord_mu(0, **kw) == 0.0
    assert chord_mu(5, **kw) == pytest.approx(0.4)
    assert chord_mu(10, **kw) == pytest.approx(0.8)
    assert chord_mu(20, **kw) == pytest.approx(0.1 + 0.7 * 0.5)  # halfway through the cosine
    assert chord_mu(30, **kw) == pytest.approx(0.1) and chord_mu(99, **kw) == pytest.approx(0.1)
    assert chord_mu(3, warmup_steps=0, decay_steps=0, peak=0.5, valley=0.2) == pytest.approx(0.2)


def test_tempsamp_shaping_matches_the_official_formula_by_hand():
    from vrft.grpo.offpolicy.advantage import tempsamp_shape

    r = torch.tensor([0.0, 0.5, 0.8, 1.0], dtype=torch.float64)
    s = tempsamp_shape(r, tau=0.8, log_scale=0.01, alpha=1.0)
    e1 = math.e - 1
    by_hand = [0.8 - (math.exp(0.8) - 1) / e1, 0.8 - (math.exp(0.3) - 1) / e1, 0.8, 0.8 + 0.01 * math.log(1.2)]
    assert s.tolist() == pytest.approx(by_hand, abs=1e-12)
    assert by_hand[0] == pytest.approx(0.0868, abs=1e-4) and by_hand[3] == pytest.approx(0.80182, abs=1e-5)


def test_tempsamp_expert_advantage_uses_the_shaped_mixed_group():
    # group 0: samples 0.0, 0.5, 0.9 and the expert 1.0; group 1: samples all 0, expert 1.0
    rewards = torch.tensor([0.0, 0.5, 0.9, 1.0, 0.0, 0.0, 0.0, 1.0])
    group = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    expert = torch.tensor([False, False, False, True] * 2)
    rule = get_expert_advantage("tempsamp")
    out = rule(rewards, group, ~expert, expert, tau=0.8, log_scale=0.01, alpha=1.0, eps=1e-6)
    e1 = math.e - 1
    s = [0.8 - (math.exp(0.8) - 1) / e1, 0.8 - (math.exp(0.3) - 1) / e1, 0.8 + 0.01 * math.log(1.1),
         0.8 + 0.01 * math.log(1.2)]
    mean = sum(s) / 4
    std = math.sqrt(sum((x - mean) ** 2 for x in s) / 3)
    assert out[3].item() == pytest.approx((s[3] - mean) / (std + 1e-6), rel=1e-5)
    # [a, a, a, b]: mean (3a + b) / 4, unbiased std (b - a) / 2 -> A_e = 1.5 whatever the shaping
    assert out[7].item() == pytest.approx(1.5, rel=1e-5)
    assert out[[0, 1, 2, 4, 5, 6]].abs().sum() == 0
    # through the trainer hook: the config keys reach the rule, sampled rows keep the plain estimator
    batch = _batch(rewards.tolist(), ["policy"] * 3 + ["expert"] + ["policy"] * 3 + ["expert"], group.tolist())
    adv, _ = _advantages(batch, expert_advantage="tempsamp", tempsamp_threshold=0.8)
    assert adv[3].item() == pytest.approx(out[3].item(), rel=1e-6) and adv[7].item() == pytest.approx(1.5, rel=1e-5)
