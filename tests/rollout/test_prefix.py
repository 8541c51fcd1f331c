"""Prefix sampling on the tiny model: a prefix row starts with the expert's tokens, the policy
continued from exactly prompt + prefix (its own log-probs of the continuation match the sampler's),
and the prefix tokens are marked expert."""

import pytest
import torch

from rewards.runner import RewardRunner
from tests.rollout.test_collector import _configs, _sample
from vrft.policy.sampling import SamplingParams
from vrft.rollout import PrefixPlan, RolloutCollector, VLLMServerBackend, ground_truth_tokens
from vrft.rollout.prefix import prefix_length, prefix_rows, sample_with_prefixes


@pytest.fixture(scope="module")
def policy(tiny_policy):
    return tiny_policy("qwen2_5_vl")


def test_prefix_length_and_rows():
    assert [prefix_length(10, r) for r in (0.0, 0.05, 0.5, 0.95, 1.0)] == [1, 1, 5, 9, 10]
    batch = type("B", (), {"rows_of": lambda self, p: [4, 5, 6, 7]})()
    assert prefix_rows(batch, 0, 1, 1) == [6] and prefix_rows(batch, 0, 2, 0) == [6, 7]


def test_prefix_rows_continue_the_expert_prefix(policy, media_dir):
    collector = RolloutCollector(policy, _configs(), RewardRunner(), backend="hf")
    samples = [_sample(media_dir, "plain", k) for k in range(2)]
    g = torch.Generator().manual_seed(0)
    batch = collector.collect(samples, 4, SamplingParams(max_new_tokens=6), generator=g, inject_per_group=1,
                              prefix=PrefixPlan(per_group=1, ratio=0.5))
    assert batch.behaviour == ["policy", "policy", "policy", "expert"] * 2
    for p, row in ((0, 2), (1, 6)):
        ids, _ = ground_truth_tokens(policy, samples[p], batch.prompts[p], collector.configs["plain"])
        n = prefix_length(int(ids.shape[0]) - 1, 0.5)
        comp, mask = batch.completions[row], batch.expert_tokens[row]
        assert n >= 1 and torch.equal(comp[:n], ids[:n]) and comp.shape[0] > n
        assert mask.tolist() == [True] * n + [False] * (comp.shape[0] - n)
        assert batch.texts[row].startswith(policy.tokenizer.decode(ids[:n]))
        assert batch.sampler_logprobs[row][:n].abs().sum() == 0  # the expert: probability 1
        # the continuation was sampled from prompt + prefix: the trainer's log-probs of it agree
        lp = policy.logprobs([batch.prompts[p]], [0], [comp]).logprobs[0]
        assert torch.allclose(lp[n:], batch.sampler_logprobs[row][n:], atol=1e-3)
    assert all(batch.expert_tokens[i] is None for i in (0, 1, 3, 4, 5, 7))
    assert batch.rewards.shape == (8,)  # scored on the full text


def test_prefix_sampling_refuses_tool_prompts(policy, media_dir):
    collector = RolloutCollector(policy, _configs(), RewardRunner(), backend="hf")
    with pytest.raises(ValueError, match="plain prompts only"):
        collector.collect([_sample(media_dir, "tool")], 2, SamplingParams(max_new_tokens=2),
                          prefix=PrefixPlan(per_group=1, ratio=0.5))


def test_prefix_sampling_refuses_a_backend_that_retokenizes(policy, media_dir):
    backend = VLLMServerBackend(policy, engine=object())
    collector = RolloutCollector(policy, _configs(), RewardRunner(), backend=backend)
    batch_rows = collector.encode([_sample(media_dir, "plain")])[1]
    assert batch_rows  # the prompt encodes; the refusal comes from the prefix step itself
    with pytest.raises(ValueError, match="rollout.backend=hf"):
        sample_with_prefixes(None, batch_rows, policy, backend, collector.configs, PrefixPlan(1, 0.5),
                             SamplingParams())
