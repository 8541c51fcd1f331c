"""The collector: plain and tool prompts in one turn loop, ground truth injected once for both,
scoring, plain rows identical to direct generation, and lockstep dummy decoding."""

import pytest
import torch

from rewards.runner import RewardRunner
from vrft.data.mixture_config import DatasetConfig, RewardSpec, ToolsConfig
from vrft.data.sample import Sample
from vrft.policy.prompt_inputs import MultiTurnCompletion
from vrft.policy.sampling import SamplingParams
from vrft.rollout import RolloutCollector, ScriptedBackend, encode_sample, ground_truth_tokens
import vrft.rollout.ground_truth as ground_truth

ZOOM = '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [98, 56, 196, 112]}}</tool_call>'


@pytest.fixture(scope="module")
def policy(tiny_policy):
    return tiny_policy("qwen2_5_vl")


def _configs():
    rewards = [RewardSpec("answer_match")]
    return {"plain": DatasetConfig(name="plain", format="jsonl", files=["p.jsonl"], task="vqa", rewards=rewards),
            "tool": DatasetConfig(name="tool", format="jsonl", files=["t.jsonl"], task="vqa", rewards=rewards,
                                  tools=ToolsConfig(enabled=["zoom_in"], max_turns=3))}


def _sample(media_dir, dataset, k=0):
    return Sample(id=f"{dataset}/{k}", dataset=dataset, task="vqa", prompt="What colour is it?",
                  solution={"answer": "red"}, images=[str(media_dir / "a.png")])


def test_plain_and_tool_prompts_in_one_loop_with_ground_truth_injected_once(policy, media_dir, monkeypatch):
    calls = []
    real = ground_truth.ground_truth_tokens
    monkeypatch.setattr(ground_truth, "ground_truth_tokens", lambda *a: calls.append(a[1].id) or real(*a))
    # trajectory ids: prompt 0 (plain) rows 0-2, prompt 1 (tool) rows 3-5
    script = lambda i, turn: ZOOM if i == 3 and turn == 0 else "<answer>blue</answer>"  # noqa: E731
    backend = ScriptedBackend(policy.tokenizer, script)
    collector = RolloutCollector(policy, _configs(), RewardRunner(), backend=backend)
    samples = [_sample(media_dir, "plain"), _sample(media_dir, "tool")]
    batch = collector.collect(samples, 3, SamplingParams(max_new_tokens=64), inject_per_group=1)
    assert backend.calls == [(2, 3), (1, 1)]  # both kinds together; then the one tool call's next turn
    assert calls == ["plain/0", "tool/0"]  # once per prompt, for both kinds
    assert batch.injected == [False, False, True, False, False, True] and batch.multi_turn == [False, True]
    assert batch.behaviour == ["policy", "policy", "expert"] * 2 and batch.behaviour_logprobs == [None] * 6
    for i, (sample, p) in ((2, (samples[0], 0)), (5, (samples[1], 1))):
        ids, text = ground_truth_tokens(policy, sample, batch.prompts[p], collector.configs[sample.dataset])
        assert torch.equal(batch.completions[i], ids) and batch.texts[i] == text == batch.traces[i]
        assert batch.sampler_logprobs[i] is None and batch.contexts[i].tool_calls == []
    assert all(torch.is_tensor(batch.completions[i]) for i in range(3))  # plain rows: token ids
    assert isinstance(batch.completions[3], MultiTurnCompletion) and batch.contexts[3].tool_calls[0].valid
    assert batch.texts[3] == "<answer>blue</answer>" and ZOOM in batch.traces[3]
    assert "# Tools" in batch.prompts[1].text and "# Tools" not in batch.prompts[0].text
    assert batch.rewards.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0, 1.0] and batch.valid.all()


def test_unscored_and_unknown_dataset(policy, media_dir):
    collector = RolloutCollector(policy, _configs(), RewardRunner(), backend="scripted")
    assert collector.backend.__class__ is ScriptedBackend
    with pytest.raises(ValueError, match="no dataset config for its dataset 'nope'"):
        collector.collect([_sample(media_dir, "nope")], 1, SamplingParams(), score=False)


def test_plain_rows_match_direct_generation(policy, media_dir):
    configs = _configs()
    samples = [_sample(media_dir, "plain", k) for k in range(2)]
    params = SamplingParams(max_new_tokens=6)
    batch = RolloutCollector(policy, configs).collect(samples, 2, params, generator=torch.Generator().manual_seed(3))
    prompts = [encode_sample(policy, s, configs["plain"]) for s in samples]
    direct = policy.generate(prompts, 2, params, generator=torch.Generator().manual_seed(3))
    assert batch.rewards is None and batch.seq_prompt == [c.prompt_index for c in direct]
    for c, ids, lp, text, reason in zip(direct, batch.completions, batch.sampler_logprobs, batch.texts,
                                        batch.finish_reasons):
        assert torch.equal(c.token_ids, ids) and torch.equal(c.logprobs, lp) and (c.text, c.finish_reason) == (text, reason)


@pytest.mark.parametrize("extra", [0, 1, 3])
def test_lockstep_keeps_a_done_rank_decoding_dummies(policy, media_dir, extra):
    """A fake lockstep says "not every rank is done" for `extra` calls: the loop keeps calling the
    backend with a dummy request (no trajectories) and stops when told."""
    said = []

    def lockstep(done):
        said.append(done)
        return len(said) > extra

    backend = ScriptedBackend(policy.tokenizer, lambda i, turn: "<answer>red</answer>")
    collector = RolloutCollector(policy, _configs(), backend=backend, lockstep=lockstep)
    batch = collector.collect([_sample(media_dir, "plain")], 2, SamplingParams())
    assert backend.calls == [(1, 2)] + [(1, 1)] * extra and backend.dummies == extra
    assert said == [True] * (extra + 1) and batch.texts == ["<answer>red</answer>"] * 2


def test_hf_dummy_decoding_agrees_per_decode_step(policy, media_dir):
    """On HF, lockstep is consulted per decode step (as sharded forwards need), dummies included."""
    said = []

    def lockstep(done):
        said.append(done)
        return len(said) >= 12

    collector = RolloutCollector(policy, _configs(), lockstep=lockstep)
    batch = collector.collect([_sample(media_dir, "plain")], 2, SamplingParams(max_new_tokens=4),
                              generator=torch.Generator().manual_seed(0))
    # 4 decode steps of turn 1, then per turn: the loop's agreement and a dummy's decode steps (the
    # last dummy stops at the 12th call, when every rank is done), and the loop's closing agreement
    assert len(said) == 4 + 1 + 4 + 1 + 2 + 1 and said[4:] == [True] * 9
    assert len(batch.texts) == 2 and all(batch.finish_reasons)
