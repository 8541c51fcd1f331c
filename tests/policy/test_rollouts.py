"""Tiny models really generate, and the log-prob pass reproduces the sampler's log-probs."""

import pytest
import torch

from tests.conftest import FAMILIES
from vrft.policy.sampling import SamplingParams


def _prompts(policy, media_dir):
    a, b, v = str(media_dir / "a.png"), str(media_dir / "b.png"), str(media_dir / "v.mp4")
    return [
        policy.encode("What is in the image?", images=[a]),
        policy.encode("Compare the two images in detail.", images=[a, b]),
        policy.encode("When does it change?", video=v),
    ]


@pytest.mark.parametrize("family", FAMILIES)
def test_generate_and_logprobs_match_sampler(tiny_policy, media_dir, family):
    policy = tiny_policy(family)
    prompts = _prompts(policy, media_dir)
    g = torch.Generator().manual_seed(0)
    comps = policy.generate(prompts, n=3, params=SamplingParams(max_new_tokens=16), generator=g)
    assert [c.prompt_index for c in comps] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    for c in comps:
        assert c.finish_reason in ("eos", "length") and 1 <= len(c.token_ids) <= 16
        assert not torch.isin(c.token_ids, policy.suppress_ids).any()
    out = policy.logprobs(prompts, [c.prompt_index for c in comps], [c.token_ids for c in comps], micro_batch=4)
    for lp, c in zip(out.logprobs, comps):
        torch.testing.assert_close(lp, c.logprobs, atol=2e-5, rtol=0)


def test_shared_vision_equals_per_sequence_vision(tiny_policy, media_dir):
    """Sharing each prompt's vision features across its samples changes nothing: log-probs and
    gradients equal the plain per-sequence path."""
    policy = tiny_policy("qwen2_5_vl")
    prompts = _prompts(policy, media_dir)[:2]
    comps = policy.generate(prompts, n=2, params=SamplingParams(max_new_tokens=8),
                            generator=torch.Generator().manual_seed(1))
    seq, toks = [c.prompt_index for c in comps], [c.token_ids for c in comps]
    grads = []
    for share in (True, False):
        policy.model.zero_grad()
        lp = policy.logprobs(prompts, seq, toks, share_vision=share).logprobs
        torch.stack([x.sum() for x in lp]).sum().backward()
        grads.append({n: p.grad.clone() for n, p in policy.model.named_parameters() if p.grad is not None})
    policy.model.zero_grad()
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], atol=1e-6, rtol=1e-4)


def test_greedy_is_deterministic_and_batch_independent(tiny_policy, media_dir):
    policy = tiny_policy("qwen2_5_vl")
    prompts = _prompts(policy, media_dir)
    greedy = SamplingParams(max_new_tokens=10, temperature=0)
    together = policy.generate(prompts, n=1, params=greedy)
    alone = policy.generate(prompts[1:2], n=1, params=greedy)
    assert torch.equal(together[1].token_ids, alone[0].token_ids)


def test_min_new_tokens_and_stop_strings(tiny_policy, media_dir):
    policy = tiny_policy("qwen2_5_vl")
    prompt = _prompts(policy, media_dir)[0]
    comps = policy.generate([prompt], n=4, params=SamplingParams(max_new_tokens=12, min_new_tokens=12),
                            generator=torch.Generator().manual_seed(0))
    assert all(len(c.token_ids) == 12 and c.finish_reason == "length" for c in comps)
    # stop on a string that surely appears in a long random completion: any digit-free text stops on " "
    comps = policy.generate([prompt], n=4, params=SamplingParams(max_new_tokens=40, stop=[" "]),
                            generator=torch.Generator().manual_seed(0))
    for c in comps:
        if c.finish_reason == "stop":
            assert " " in c.text and " " not in policy.tokenizer.decode(c.token_ids[:-1])


@pytest.mark.parametrize("freeze", [False, True])
def test_gradients_reach_vision_tower_only_when_trainable(tiny_model_dir, media_dir, freeze):
    from vrft.policy.loading import LoadSettings
    from vrft.policy.policy import Policy

    policy = Policy.from_pretrained(tiny_model_dir("qwen2_vl"), LoadSettings(freeze_vision_tower=freeze))
    prompt = policy.encode("hi", images=[str(media_dir / "a.png")])
    comps = policy.generate([prompt], n=2, params=SamplingParams(max_new_tokens=4),
                            generator=torch.Generator().manual_seed(0))
    lp = policy.logprobs([prompt], [0, 0], [c.token_ids for c in comps]).logprobs
    torch.stack([x.sum() for x in lp]).sum().backward()
    blocks = [p for n, p in policy.model.named_parameters() if n.startswith("model.visual.blocks")]
    merger = [p for n, p in policy.model.named_parameters() if n.startswith("model.visual.merger")]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in merger)
    if freeze:
        assert all(p.grad is None and not p.requires_grad for p in blocks)
    else:
        assert all(p.grad is not None for p in blocks) and any(p.grad.abs().sum() > 0 for p in blocks)


def test_lora_trains_adapters_and_saves(tiny_model_dir, media_dir, tmp_path):
    from transformers import AutoModelForImageTextToText

    from vrft.policy.loading import LoadSettings, LoraSettings
    from vrft.policy.policy import Policy

    policy = Policy.from_pretrained(tiny_model_dir("qwen2_5_vl"),
                                    LoadSettings(freeze_vision_tower=True, lora=LoraSettings(enabled=True, r=4)))
    trainable = [n for n, p in policy.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n or "merger" in n for n in trainable)
    prompt = policy.encode("hi", images=[str(media_dir / "a.png")])
    comps = policy.generate([prompt], n=2, params=SamplingParams(max_new_tokens=4))
    lp = policy.logprobs([prompt], [0, 0], [c.token_ids for c in comps]).logprobs
    torch.stack([x.sum() for x in lp]).sum().backward()
    policy.save(tmp_path / "merged", merge_lora=True)
    merged = AutoModelForImageTextToText.from_pretrained(tmp_path / "merged")
    assert not any("lora_" in n for n, _ in merged.named_parameters())
    policy.save(tmp_path / "adapter")
    assert (tmp_path / "adapter" / "adapter_config.json").exists()


def test_text_only_prompts_after_a_media_batch(tiny_policy, media_dir):
    """Text-only batches get plain positions: no stale rope deltas from an earlier image batch,
    and the log-prob pass still reproduces the sampler."""
    policy = tiny_policy("qwen2_5_vl")
    image_prompt = _prompts(policy, media_dir)[0]
    policy.generate([image_prompt], n=2, params=SamplingParams(max_new_tokens=4))
    prompts = [policy.encode("Say something."), policy.encode("A longer text-only question, please answer.")]
    comps = policy.generate(prompts, n=2, params=SamplingParams(max_new_tokens=12),
                            generator=torch.Generator().manual_seed(3))
    out = policy.logprobs(prompts, [c.prompt_index for c in comps], [c.token_ids for c in comps])
    for lp, c in zip(out.logprobs, comps):
        torch.testing.assert_close(lp, c.logprobs, atol=2e-5, rtol=0)
