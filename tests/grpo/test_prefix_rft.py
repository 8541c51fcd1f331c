"""Prefix-RFT's trainer side on hand-built tensors: the prefix tokens of a row get the expert term
(no ratio, no clip), its continuation the clipped loss; the entropy-based token selection; the
prefix-length schedule; the config checks."""

from __future__ import annotations

import math

import pytest
import torch

from tests.perf.test_shared_prefix import _prompts, assert_close_to_scale
from vrft.config import ConfigError, config_from_dict
from vrft.config.training import PrefixSamplingConfig
from vrft.grpo.config_names import CONFIG_REGISTRIES
from vrft.grpo.offpolicy.objective import offpolicy_loss
from vrft.grpo.offpolicy.prefix_rft import prefix_plan, prefix_ratio, select_prefix_tokens
from vrft.grpo.update import UpdateSettings, policy_update
from vrft.parallel import DistInfo, build_backend
from vrft.policy.loading import LoadSettings
from vrft.policy.policy import Policy
from vrft.policy.sampling import SamplingParams
from vrft.rollout import RolloutBatch

GAMMA = 0.1


def _rows():
    """Row 0: 2 prefix tokens then 2 continuation tokens; row 1: an ordinary sampled row."""
    logp = torch.tensor([[-0.3, -2.0, -0.7, -1.1], [-0.4, -0.9, -1.3, -0.2]], requires_grad=True)
    mask = torch.ones(2, 4, dtype=torch.bool)
    prefix = torch.tensor([[True, True, False, False], [False] * 4])
    adv = torch.tensor([1.0, -0.5])
    return logp, mask, prefix, adv


@pytest.mark.parametrize("shift", [0.0, 5.0, -5.0])
def test_prefix_tokens_get_the_expert_term_and_the_continuation_the_clipped_loss(shift):
    logp, mask, prefix, adv = _rows()
    old = logp.detach().clone()
    old[0, 2] -= 0.5  # ratio e^0.5 = 1.65 > 1.28 with A > 0: clipped, no gradient
    old[0, :2] += shift  # the prefix's "old" log-probs are meaningless: they must not matter
    total, m = offpolicy_loss(logp, old, adv, mask, torch.tensor([False, False]), loss="dapo", form="luffy",
                              gamma=GAMMA, clip_low=0.2, clip_high=0.28, prefix_BT=prefix, prefix_form="luffy")
    p = logp.detach().exp()
    n = 8.0  # dapo: every loss token of the step weighs 1 / 8
    by_hand = (-(adv[0] * p[0, :2] / (p[0, :2] + GAMMA)).sum() - 1.28 * adv[0] - adv[0]
               - 4 * adv[1]) / n
    assert total.item() == pytest.approx(by_hand.item(), abs=1e-6)
    total.backward()
    grad = torch.zeros(2, 4)
    grad[0, :2] = -adv[0] * GAMMA * p[0, :2] / (p[0, :2] + GAMMA) ** 2 / n
    grad[0, 2] = 0.0  # clipped
    grad[0, 3] = -adv[0] / n
    grad[1] = -adv[1] / n
    assert torch.allclose(logp.grad, grad, atol=1e-7)
    assert m["policy/clip_frac"] == pytest.approx(1 / 6)  # the clip sees the 6 continuation tokens only
    assert m["prefix/token_frac"] == pytest.approx(2 / 8)


def test_prefix_none_form_and_dr_grpo_normaliser():
    logp, mask, prefix, adv = _rows()
    total, _ = offpolicy_loss(logp, logp.detach(), adv, mask, torch.tensor([False, False]), loss="dr_grpo",
                              max_len=10, prefix_BT=prefix, prefix_form="none")
    total.backward()
    n = 2 * 10.0  # dr_grpo: n_seqs * max_len
    assert torch.allclose(logp.grad[0, :2], torch.full((2,), -adv[0].item() / n))  # -A log p
    assert torch.allclose(logp.grad[0, 2:], torch.full((2,), -adv[0].item() / n))  # ratio 1
    by_hand = (-(adv[0] * logp.detach()[0, :2]).sum() - 2 * adv[0] - 4 * adv[1]) / n
    assert total.item() == pytest.approx(by_hand.item(), abs=1e-6)


def test_entropy_selection_keeps_the_highest_entropy_prefix_tokens():
    prefix = torch.tensor([[True, True, True, True, True, False], [True, True, False, False, False, False],
                           [False] * 6])
    ent = torch.tensor([[0.1, 0.9, 0.5, 0.9, 0.2, 5.0], [0.3, 0.3, 9.0, 9.0, 9.0, 9.0], [1.0] * 6])
    keep = select_prefix_tokens(prefix, ent, 0.2)
    # row 0: ceil(0.2 * 5) = 1 -> the first of the two 0.9s; row 1: ceil(0.4) = 1 -> the first 0.3
    assert keep.tolist() == [[False, True, False, False, False, False], [True] + [False] * 5, [False] * 6]
    keep = select_prefix_tokens(prefix, ent, 0.5)  # ceil(2.5) = 3: 0.9, 0.9, 0.5; ceil(1) = 1
    assert keep.tolist()[0] == [False, True, True, True, False, False] and keep[1].sum() == 1


def test_prefix_ratio_cosine_schedule_and_plan():
    kw = dict(max_ratio=0.95, min_ratio=0.05, decay_steps=100)
    assert prefix_ratio(0, **kw) == pytest.approx(0.95)
    assert prefix_ratio(50, **kw) == pytest.approx(0.5)
    assert prefix_ratio(25, **kw) == pytest.approx(0.05 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert prefix_ratio(100, **kw) == prefix_ratio(500, **kw) == pytest.approx(0.05)
    cfg = PrefixSamplingConfig(enabled=True, per_group=2, until_step=10)
    plan = prefix_plan(cfg, 5, total_steps=10)
    assert plan.per_group == 2 and plan.ratio == pytest.approx(0.5)
    assert prefix_plan(cfg, 10, total_steps=20) is None
    assert prefix_plan(PrefixSamplingConfig(), 0, total_steps=10) is None


@pytest.mark.parametrize("override, key", [
    (["algo.loss=grpo"], "algo.prefix_sampling.enabled"),
    (["rollout.backend=vllm", "rollout.vllm.server_url=http://x"], "algo.prefix_sampling.enabled"),
    (["algo.prefix_sampling.per_group=3"], "algo.prefix_sampling.per_group"),
    (["algo.prefix_sampling.form=chord"], "algo.prefix_sampling.form"),
    (["algo.prefix_sampling.min_ratio=0.99"], "algo.prefix_sampling.min_ratio"),
])
def test_bad_prefix_config_names_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config_from_dict({}, ["algo.prefix_sampling.enabled=true", "rollout.num_generations=4", "algo.gt_injection.enabled=true",
                              *override], world_size=1, registries=CONFIG_REGISTRIES)


def test_policy_update_trains_the_selected_prefix_tokens_and_the_continuation(tiny_model_dir, media_dir):
    """Through the whole update on the tiny model: the parameter step (SGD, lr 1) equals minus the
    gradient of the loss written by hand, in which only the highest-entropy half of row 0's 4 prefix
    tokens carries LUFFY's term and the rest of the prefix carries nothing."""
    policy = Policy.from_pretrained(tiny_model_dir("qwen2_5_vl"), LoadSettings())
    prompts = _prompts(policy, media_dir)[:1]
    comps = policy.generate(prompts, n=2, params=SamplingParams(max_new_tokens=8, min_new_tokens=8),
                            generator=torch.Generator().manual_seed(3))
    toks, seq = [c.token_ids for c in comps], [0, 0]
    n0, n1 = int(toks[0].shape[0]), int(toks[1].shape[0])
    adv = torch.tensor([1.0, -1.0])
    # by hand, before the update
    out = policy.logprobs(prompts, seq, toks, with_entropy=True)
    ent = out.entropy[0][:4].tolist()
    chosen = sorted(range(4), key=lambda t: (-ent[t], t))[:2]
    lp0, lp1 = out.logprobs
    p0 = lp0.exp()
    terms = [-adv[0] * p0[t] / (p0[t] + GAMMA) for t in chosen]  # selected prefix tokens: LUFFY, no ratio
    terms += [-adv[0] * torch.exp(lp0[t] - lp0[t].detach()) for t in range(4, n0)]  # continuation: ratio 1
    terms += [-adv[1] * torch.exp(lp1 - lp1.detach()).sum()]
    by_hand = sum(terms) / (n0 + n1)  # dapo: every loss token of the step (the whole prefix included)
    policy.model.zero_grad(set_to_none=True)
    by_hand.backward()
    want = {n: -p.grad.clone() for n, p in policy.model.named_parameters() if p.grad is not None}
    policy.model.zero_grad(set_to_none=True)

    batch = RolloutBatch(samples=[None], prompts=prompts, seq_prompt=seq, completions=toks,
                         sampler_logprobs=[None, None], texts=["", ""], finish_reasons=["length"] * 2,
                         behaviour=["policy", "policy"],
                         expert_tokens=[torch.tensor([True] * 4 + [False] * (n0 - 4)), None])
    before = {n: p.detach().clone() for n, p in policy.model.named_parameters()}
    backend = build_backend("single", DistInfo())
    policy.model = backend.setup(policy.model, lambda m: (torch.optim.SGD(m.parameters(), lr=1.0), None), 1)
    settings = UpdateSettings(loss="dapo", grad_clip=0.0, shared_prefix=False, prefix_form="luffy",
                              prefix_top_frac=0.5, clip_low=0.2, clip_high=0.28)
    metrics = policy_update(policy, batch, adv, torch.ones(2), backend, settings)
    assert metrics["prefix/token_frac"] == pytest.approx(2 / (n0 + n1 - 2))
    step = {n: p.detach() - before[n] for n, p in policy.model.named_parameters()}
    assert any(float(v.abs().max()) > 0 for v in want.values())
    for name, w in want.items():
        assert_close_to_scale(step[name], w, name, rel=1e-4)
