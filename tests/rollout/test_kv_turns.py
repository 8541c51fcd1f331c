"""The HF backend continues a trajectory's KV cache across turns: every token (prompt, generated,
observation) passes through the model once and every image once through the vision tower, with the
sampled tokens and log-probs of re-prefilling every turn (same generator seed)."""

import pytest
import torch

import vrft.policy.hf_generator as hf_generator
import vrft.policy.turn_cache as turn_cache
from vrft.data.mixture_config import DatasetConfig, ToolsConfig
from vrft.data.sample import Sample, VideoRef
from vrft.policy.sampling import SamplingParams, sample_step
from vrft.policy.unwrap import core, unwrap
from vrft.rollout import HFBackend, prepare_episode, run_turn_loop

ZOOMS = ['<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 42, 84], "image_index": 1}}</tool_call>',
         '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [98, 56, 196, 112]}}</tool_call>']

CLIPS = ['<tool_call>{"name": "zoom_in_video", "arguments": {"start": 1, "end": 2.5}}</tool_call>',
         '<tool_call>{"name": "zoom_in_video", "arguments": {"start": 0, "end": 1.5}}</tool_call>']


class Forced:
    """Decode turn k (k < len(ZOOMS)) starts with the tokens of ZOOMS[k] (their log-probs are the
    model's); other tokens are sampled. Counts tokens fed to the model and images encoded."""

    def __init__(self, policy, monkeypatch, zooms=ZOOMS):
        self.forced = [torch.tensor(policy.tokenizer(z, add_special_tokens=False)["input_ids"]) for z in zooms]
        self.turn, self.step, self.fed, self.images, self.pad = -1, 0, 0, 0, policy.pad_id
        real_decode = hf_generator.decode

        def decode(*args, **kwargs):
            self.turn, self.step = self.turn + 1, 0
            return real_decode(*args, **kwargs)

        def sample(logits, params, generator):
            step, self.step = self.step, self.step + 1
            if self.turn < len(self.forced) and step < len(self.forced[self.turn]):
                tok = self.forced[self.turn][step].expand(logits.shape[0]).to(logits.device)
                logp = torch.log_softmax(logits.float() / params.temperature, -1)
                return tok, logp.gather(-1, tok[:, None])[:, 0]
            return sample_step(logits, params, generator)

        monkeypatch.setattr(hf_generator, "decode", decode)
        monkeypatch.setattr(turn_cache, "decode", decode)
        monkeypatch.setattr(hf_generator, "sample_step", sample)
        inner = core(policy.model)
        real_features = inner.get_image_features

        def features(pixel_values, grid, **kw):
            self.images += int(grid.shape[0])
            return real_features(pixel_values, grid, **kw)

        monkeypatch.setattr(inner, "get_image_features", features)

        def count(module, args, kwargs):
            ids, mask = kwargs["input_ids"], kwargs["attention_mask"]
            if ids.shape[1] == 1:  # a decode step: rows already finished feed a pad
                self.fed += int((ids != self.pad).sum())
            else:
                self.fed += int(mask[:, -ids.shape[1]:].sum())

        self.hook = unwrap(policy.model).register_forward_pre_hook(count, with_kwargs=True)


def _run(policy, media_dir, monkeypatch, keep_kv, video=False):
    cfg = DatasetConfig(name="t", format="jsonl", files=["t.jsonl"], task="vqa", rewards=[],
                        tools=ToolsConfig(enabled=["zoom_in", "zoom_in_video"], max_turns=3))
    sample = Sample(id="t/1", dataset="t", task="vqa", prompt="What colour is it?", solution={"answer": "red"},
                    images=[] if video else [str(media_dir / "a.png"), str(media_dir / "b.png")],
                    video=VideoRef(str(media_dir / "v.mp4"), 1.0, 4.0) if video else None)
    ep = prepare_episode(policy, sample, cfg)
    forced = Forced(policy, monkeypatch, CLIPS if video else ZOOMS)
    try:
        params = SamplingParams(max_new_tokens=len(forced.forced[0]) + 6)
        trajs = run_turn_loop(HFBackend(policy, keep_kv=keep_kv), policy.processor, [ep], 2, params,
                              generator=torch.Generator().manual_seed(7))
    finally:
        forced.hook.remove()
    return ep, trajs, forced


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"])
def test_kv_cache_kept_across_turns(tiny_policy, media_dir, monkeypatch, family):
    policy = tiny_policy(family)
    ep, cached, seen = _run(policy, media_dir, monkeypatch, keep_kv=True)
    monkeypatch.undo()
    _, again, seen_again = _run(policy, media_dir, monkeypatch, keep_kv=False)
    assert all(t.n_calls == 2 and len(t.turns) == 3 for t in cached)  # a 3-turn zoom episode
    for a, b in zip(cached, again):  # the same trajectories as re-prefilling every turn
        assert torch.equal(a.token_ids, b.token_ids) and a.turns == b.turns
        torch.testing.assert_close(a.sampler_logprobs, b.sampler_logprobs, atol=1e-4, rtol=0)
    # each image once: the prompt's 2 (one prefill for the group) and each trajectory's 2 crops
    assert seen.images == 2 + 2 * 2 and seen_again.images > seen.images
    # each token once: the prompt once for the group, then every token after it once (the very
    # last sampled token of a trajectory is never fed; a row that ended early fed its end token)
    once = ep.prompt.length + sum(t.length for t in cached)
    assert once - len(cached) <= seen.fed <= once
    assert seen_again.fed > once + 2 * ep.prompt.length


@pytest.mark.parametrize("family", ["qwen2_5_vl", "qwen3_vl"])
def test_kv_cache_kept_across_video_clip_turns(tiny_policy, media_dir, monkeypatch, family):
    policy = tiny_policy(family)
    ep, cached, seen = _run(policy, media_dir, monkeypatch, keep_kv=True, video=True)
    monkeypatch.undo()
    _, again, seen_again = _run(policy, media_dir, monkeypatch, keep_kv=False, video=True)
    assert all(t.n_calls == 2 and len(t.videos) == 2 for t in cached)
    for a, b in zip(cached, again):
        assert torch.equal(a.token_ids, b.token_ids) and a.turns == b.turns
        torch.testing.assert_close(a.sampler_logprobs, b.sampler_logprobs, atol=1e-4, rtol=0)
    once = ep.prompt.length + sum(t.length for t in cached)
    assert once - len(cached) <= seen.fed <= once < seen_again.fed
