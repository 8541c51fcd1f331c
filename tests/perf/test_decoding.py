"""Decoding under inference mode into a preallocated KV cache changes no token and no log-prob."""

from __future__ import annotations

import pytest
import torch
from transformers.cache_utils import DynamicLayer

import vrft.policy.hf_generator as hf
from tests.conftest import FAMILIES
from tests.perf.test_shared_prefix import _prompts
from vrft.policy.kv_cache import ReservedLayer, reserve
from vrft.policy.sampling import SamplingParams


def _generate(policy, prompts, params, inference_mode: bool, reserve_kv: bool, seed=0):
    old = hf.INFERENCE_MODE, hf.RESERVE_KV
    hf.INFERENCE_MODE, hf.RESERVE_KV = inference_mode, reserve_kv
    try:
        return policy.generate(prompts, n=3, params=params, generator=torch.Generator().manual_seed(seed))
    finally:
        hf.INFERENCE_MODE, hf.RESERVE_KV = old


@pytest.mark.parametrize("family", FAMILIES)
def test_fast_decoding_equals_plain_decoding(tiny_policy, media_dir, family):
    """Image, two images, video and a text-only prompt of another length (left padding); samples
    that stop at EOS or on a stop string before the others."""
    policy = tiny_policy(family)
    prompts = _prompts(policy, media_dir)
    for params in (SamplingParams(max_new_tokens=24), SamplingParams(max_new_tokens=16, stop=[" "])):
        plain = _generate(policy, prompts, params, inference_mode=False, reserve_kv=False)
        fast = _generate(policy, prompts, params, inference_mode=True, reserve_kv=True)
        assert [c.finish_reason for c in plain] == [c.finish_reason for c in fast]
        assert not any(c.logprobs.requires_grad for c in plain + fast)  # both decode without autograd
        for a, b in zip(plain, fast):
            assert torch.equal(a.token_ids, b.token_ids) and a.text == b.text
            torch.testing.assert_close(a.logprobs, b.logprobs, atol=1e-6, rtol=0)


def test_completions_are_ordinary_tensors(tiny_policy, media_dir):
    """Tokens decoded under inference mode can be changed in place and scored with gradients."""
    policy = tiny_policy("qwen2_5_vl")
    prompts = _prompts(policy, media_dir)[:1]
    comps = _generate(policy, prompts, SamplingParams(max_new_tokens=6), inference_mode=True, reserve_kv=True)
    assert not any(c.token_ids.is_inference() or c.logprobs.is_inference() for c in comps)
    comps[0].logprobs.mul_(1.0)
    out = policy.logprobs(prompts, [c.prompt_index for c in comps], [c.token_ids for c in comps])
    sum(lp.sum() for lp in out.logprobs).backward()
    policy.model.zero_grad(set_to_none=True)


def test_sharded_parameters_keep_no_grad_mode():
    model = torch.nn.Linear(2, 2)
    assert not hf._sharded(model)
    model.weight.ds_id = 0  # a DeepSpeed ZeRO parameter
    assert hf._sharded(model)


def _layer(b=2, h=1, n=3, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    layer = DynamicLayer()
    layer.update(torch.randn(b, h, n, d, generator=g), torch.randn(b, h, n, d, generator=g))
    return layer


def test_reserved_layer_matches_dynamic_layer_past_capacity_and_after_reindexing():
    plain, fast = _layer(), _layer()

    class Cache:
        layers = [fast]

    reserve(Cache, capacity=5)
    assert type(fast) is ReservedLayer
    g = torch.Generator().manual_seed(1)
    for step in range(4):  # the last step overflows the reserved room: concatenation takes over
        k, v = torch.randn(2, 1, 1, 4, generator=g), torch.randn(2, 1, 1, 4, generator=g)
        for a, b in zip(plain.update(k, v), fast.update(k, v)):
            assert torch.equal(a, b)
    for layer in (plain, fast):  # a re-indexed cache (beam search style) is a new tensor
        layer.batch_repeat_interleave(2)
    k, v = torch.randn(4, 1, 1, 4, generator=g), torch.randn(4, 1, 1, 4, generator=g)
    for a, b in zip(plain.update(k, v), fast.update(k, v)):
        assert torch.equal(a, b)
