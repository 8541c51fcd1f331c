"""Shared-prefix packing (one row per prompt, the prompt once) is exact: the same log-probs,
entropies, losses and gradients as scoring every sequence unpacked."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import FAMILIES
from vrft.policy.prompt_inputs import MultiTurnCompletion, PromptInputs
from vrft.policy.sampling import SamplingParams
from vrft.policy.shared_prefix import pack, supported

PAD = 0


def _text_prompt(ids: list[int]) -> PromptInputs:
    t = torch.tensor(ids)
    return PromptInputs(input_ids=t, mm_token_type_ids=torch.zeros_like(t), text="")


def _rope_index(delta: int):
    """Text positions over real tokens plus a constant mrope delta (what get_rope_index does for text)."""
    def rope_index(input_ids, mm_token_type_ids, attention_mask, grids):
        pos = (attention_mask.cumsum(-1) - 1).clamp(min=0) + delta * attention_mask
        return pos[None].expand(3, -1, -1), torch.full((input_ids.shape[0], 1), delta)
    return rope_index


def test_pack_layout_mask_positions_and_targets():
    prompts = [_text_prompt([11, 12, 13]), _text_prompt([21, 22])]
    comps = [torch.tensor([101, 102, 103]), torch.tensor([201]), torch.tensor([111, 112])]
    seq_prompt = [0, 1, 0]
    p = pack(prompts, seq_prompt, comps, PAD, _rope_index(delta=5))
    assert p.row_prompt == [0, 1]
    # Row 0: prompt 0 once, then its completions 0 and 2; row 1: left-padded prompt 1, completion 1.
    assert p.input_ids.tolist() == [[11, 12, 13, 101, 102, 103, 111, 112], [PAD, 21, 22, 201, PAD, PAD, PAD, PAD]]
    # A completion token's position is the unpacked one: real prompt tokens + its index + delta.
    assert p.position_ids[0, 0].tolist() == [5, 6, 7, 8, 9, 10, 8, 9]
    assert p.position_ids[0, 1, 1:4].tolist() == [5, 6, 7]
    allowed = p.allowed[:, 0]
    # Completion 2 (row 0, columns 6-7) sees the prompt and itself, never completion 0 (columns 3-5).
    assert allowed[0, 7].tolist() == [True, True, True, False, False, False, True, True]
    assert allowed[0, 2].tolist() == [True, True, True, False, False, False, False, False]  # prompt: causal
    assert allowed[1, 3].tolist() == [False, True, True, True, False, False, False, False]  # padding hidden
    assert allowed[1, 0].tolist() == [True] + [False] * 7  # padding attends only to itself
    # Column 0 is the prompt's last token (predicts every first token); then each completion but its last.
    assert p.keep.tolist() == [[2, 3, 4, 6], [2, 2, 2, 2]]
    assert p.targets[0, 1:].tolist() == [102, 103, 112]
    assert p.first.tolist() == [[101, 111], [201, 0]]
    assert p.seqs == [(0, 0, 1, 3), (1, 0, 1, 1), (0, 1, 3, 2)]


def test_multiturn_and_flash_attention_use_the_unpacked_path(tiny_policy):
    from types import SimpleNamespace

    policy = tiny_policy("qwen2_5_vl")
    assert supported(policy.model, [torch.tensor([1, 2])])
    mt = MultiTurnCompletion(torch.tensor([1, 2]), torch.zeros(2, dtype=torch.long), torch.ones(2))
    assert not supported(policy.model, [torch.tensor([1, 2]), mt])
    text = SimpleNamespace(_attn_implementation="flash_attention_2")
    flash = SimpleNamespace(config=SimpleNamespace(get_text_config=lambda: text))
    assert not supported(flash, [torch.tensor([1, 2])])  # no custom masks in flash kernels


def _prompts(policy, media_dir):
    a, b, v = str(media_dir / "a.png"), str(media_dir / "b.png"), str(media_dir / "v.mp4")
    return [
        policy.encode("What is in the image?", images=[a]),
        policy.encode("Compare the two images in detail.", images=[a, b]),
        policy.encode("When does it change?", video=v),
        policy.encode("No media in this prompt at all."),
    ]


def _rollouts(policy, prompts, n=3, seed=0):
    comps = policy.generate(prompts, n=n, params=SamplingParams(max_new_tokens=10),
                            generator=torch.Generator().manual_seed(seed))
    seq, toks = [c.prompt_index for c in comps], [c.token_ids for c in comps]
    toks[1] = toks[1][:1]  # a one-token completion: only the prompt's last position predicts it
    return seq, toks


def _score(policy, prompts, seq, toks, **kw):
    """Log-probs, entropies and the gradients of a loss that weighs every token differently."""
    policy.model.zero_grad(set_to_none=True)
    out = policy.logprobs(prompts, seq, toks, with_entropy=True, **kw)
    loss = sum((lp * torch.linspace(0.5, 1.5, lp.shape[0])).sum() * (i + 1) for i, lp in enumerate(out.logprobs))
    loss.backward()
    grads = {n: p.grad.clone() for n, p in policy.model.named_parameters() if p.grad is not None}
    policy.model.zero_grad(set_to_none=True)
    return out, float(loss.detach()), grads


def _assert_same(a, b):
    (out_a, loss_a, grads_a), (out_b, loss_b, grads_b) = a, b
    assert [x.shape for x in out_a.logprobs] == [x.shape for x in out_b.logprobs]
    for x, y in zip(out_a.logprobs, out_b.logprobs):
        torch.testing.assert_close(x, y, atol=1e-5, rtol=0)
    for x, y in zip(out_a.entropy, out_b.entropy):
        torch.testing.assert_close(x, y, atol=1e-4, rtol=0)
    assert loss_a == pytest.approx(loss_b, rel=1e-5, abs=1e-4)
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        assert_close_to_scale(grads_a[name], grads_b[name], name)


def assert_close_to_scale(a: torch.Tensor, b: torch.Tensor, name: str, rel: float = 1e-5) -> None:
    """Equal up to float32 summation order: the largest difference is tiny next to the tensor's
    largest entry (elementwise relative error means nothing for entries that cancel to ~0)."""
    err, scale = float((a - b).abs().max()), float(a.abs().max())
    assert err <= rel * scale + 1e-7, f"{name}: max diff {err:.3g} vs scale {scale:.3g}"


@pytest.mark.parametrize("family", FAMILIES)
def test_packed_equals_unpacked(tiny_policy, media_dir, family):
    """Images, two images, video and text-only prompts; micro-batches that split groups."""
    policy = tiny_policy(family)
    prompts = _prompts(policy, media_dir)
    seq, toks = _rollouts(policy, prompts)
    for micro_batch in (12, 5):
        unpacked = _score(policy, prompts, seq, toks, micro_batch=micro_batch, shared_prefix=False)
        packed = _score(policy, prompts, seq, toks, micro_batch=micro_batch, shared_prefix=True)
        _assert_same(unpacked, packed)


def test_packed_matches_sampler_and_raw_pixels(tiny_policy, media_dir):
    policy = tiny_policy("qwen2_5_vl")
    prompts = _prompts(policy, media_dir)[:2]
    comps = policy.generate(prompts, n=2, params=SamplingParams(max_new_tokens=8),
                            generator=torch.Generator().manual_seed(3))
    seq, toks = [c.prompt_index for c in comps], [c.token_ids for c in comps]
    out = policy.logprobs(prompts, seq, toks, shared_prefix=True)
    for lp, c in zip(out.logprobs, comps):  # temperature 1: the sampler's own log-probs
        torch.testing.assert_close(lp, c.logprobs, atol=2e-5, rtol=0)
    # Packed with raw pixels (no shared vision features) is the same computation too.
    _assert_same(_score(policy, prompts, seq, toks, shared_prefix=True, share_vision=False),
                 _score(policy, prompts, seq, toks, shared_prefix=False, share_vision=True))


def test_packed_eager_attention(tiny_model_dir, media_dir):
    from vrft.policy.loading import LoadSettings
    from vrft.policy.policy import Policy

    policy = Policy.from_pretrained(tiny_model_dir("qwen2_5_vl"), LoadSettings(attn_implementation="eager"))
    prompts = _prompts(policy, media_dir)[:2] + _prompts(policy, media_dir)[3:]
    seq, toks = _rollouts(policy, prompts, seed=4)
    _assert_same(_score(policy, prompts, seq, toks, shared_prefix=False),
                 _score(policy, prompts, seq, toks, shared_prefix=True))


def test_policy_update_packed_equals_unpacked(tiny_model_dir, media_dir):
    """A whole GRPO update (loss metrics and the parameter step) is the same packed or not."""
    from vrft.parallel import DistInfo, build_backend
    from vrft.rollout import RolloutBatch
    from vrft.grpo.update import UpdateSettings, policy_update
    from vrft.policy.loading import LoadSettings
    from vrft.policy.policy import Policy

    results = []
    for shared in (False, True):
        policy = Policy.from_pretrained(tiny_model_dir("qwen2_5_vl"), LoadSettings())
        prompts = _prompts(policy, media_dir)[:2]
        seq, toks = _rollouts(policy, prompts, n=4, seed=5)
        b = len(toks)
        batch = RolloutBatch(samples=[None] * len(prompts), prompts=prompts, seq_prompt=seq, completions=toks,
                             sampler_logprobs=[None] * b, texts=[""] * b, finish_reasons=["length"] * b,
                             behaviour=["policy"] * b)
        adv = torch.linspace(-1.0, 1.0, b)
        before = {n: p.detach().clone() for n, p in policy.model.named_parameters()}
        backend = build_backend("single", DistInfo())
        policy.model = backend.setup(policy.model, lambda m: (torch.optim.SGD(m.parameters(), lr=1.0), None), 1)
        settings = UpdateSettings(loss="grpo", micro_batch_size=3, grad_clip=0.0, shared_prefix=shared)
        metrics = policy_update(policy, batch, adv, torch.ones(b), backend, settings)
        step = {n: p.detach() - before[n] for n, p in policy.model.named_parameters()}
        results.append((metrics, step))
    (m0, s0), (m1, s1) = results
    for key in ("loss/policy", "train/grad_norm", "policy/entropy"):
        assert m0[key] == pytest.approx(m1[key], rel=1e-4, abs=1e-6), key
    assert any(float(v.abs().max()) > 0 for v in s0.values())
    for name in s0:
        assert_close_to_scale(s0[name], s1[name], name)
