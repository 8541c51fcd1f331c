"""Real tiny-model trajectories: a scripted first turn calls a zoom tool, then the model generates.
Recomputing the whole multi-turn sequence's log-probs (prompt media, then the crop / clip) gives the
sampler's log-probs on every generated token, in both coordinate-frame families."""

from dataclasses import replace

import pytest
import torch

from vrft.data.mixture_config import DatasetConfig, ToolsConfig
from vrft.data.sample import Sample, VideoRef
from vrft.policy.sampling import SamplingParams
from vrft.rollout import (HFBackend, RolloutCollector, ScriptedBackend, prepare_episode, run_turn_loop,
                          trajectory_logprobs)

CALLS = {
    "image": '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 40, 80], "image_index": 1}}</tool_call>',
    "video": '<tool_call>{"name": "zoom_in_video", "arguments": {"start": 1, "end": 2.5}}</tool_call>',
}


class FirstTurnScripted:
    """Turn 1 is the scripted tool call; later turns are sampled from the model."""

    collective = True

    def __init__(self, policy, text, generator):
        self.scripted = ScriptedBackend(policy.tokenizer, lambda i, turn: text)
        self.hf, self.generator = HFBackend(policy), generator

    def generate(self, requests, n, params, *, generator=None, lockstep=None):
        if requests[0].turn == 0:
            return self.scripted.generate(requests, n, replace(params, max_new_tokens=64))
        return self.hf.generate(requests, n, params, generator=self.generator, lockstep=lockstep)


def _trajectories(policy, media_dir, kind, seed=0):
    images = [str(media_dir / "a.png"), str(media_dir / "b.png")] if kind == "image" else []
    video = VideoRef(str(media_dir / "v.mp4"), 1.0, 4.0) if kind == "video" else None
    sample = Sample(id="t/1", dataset="t", task="vqa", prompt="What changes?", solution={"answer": "red"},
                    images=images, video=video)
    cfg = DatasetConfig(name="t", format="jsonl", files=["t.jsonl"], task="vqa", rewards=[],
                        tools=ToolsConfig(enabled=["zoom_in", "zoom_in_video"], max_turns=3))
    ep = prepare_episode(policy, sample, cfg)
    backend = FirstTurnScripted(policy, CALLS[kind], torch.Generator().manual_seed(seed))
    trajs = run_turn_loop(backend, policy.processor, [ep], 2, SamplingParams(max_new_tokens=10))
    return ep, trajs


@pytest.mark.parametrize("family, kind", [("qwen2_5_vl", "image"), ("qwen3_vl", "image"),
                                          ("qwen2_5_vl", "video"), ("qwen3_vl", "video")])
def test_recomputed_logprobs_match_the_sampler(tiny_policy, media_dir, family, kind):
    policy = tiny_policy(family)
    ep, trajs = _trajectories(policy, media_dir, kind)
    n_first = len(policy.tokenizer(CALLS[kind], add_special_tokens=False)["input_ids"])
    for t in trajs:
        assert t.tool_calls[0].valid, t.tool_calls[0].error
        assert len(t.turns) >= 2 and len(t.media) >= 1
        if kind == "image":  # prompt images a, b, then the crop of b: three images in token order
            grids = torch.cat([ep.prompt.image_grid_thw, t.completion.image_grid_thw])
            assert grids.shape[0] == 3 and t.media[0].original_size == tuple(t.tool_calls[0].result["crop_box"][2:])
        else:  # the prompt's clip, then the zoomed clip
            assert t.completion.video_grid_thw.shape[0] == 1 and ep.prompt.video_grid_thw.shape[0] == 1
    with torch.no_grad():
        out = trajectory_logprobs(policy, trajs, micro_batch=2)
    for t, lp, mask in zip(trajs, out.logprobs, out.loss_masks):
        assert torch.equal(mask, t.loss_mask.float()) and torch.isfinite(lp).all()
        assert torch.equal(lp[mask == 0], torch.zeros(int((mask == 0).sum())))
        sampled = mask.bool().clone()
        sampled[:n_first] = False  # the scripted turn has no sampler log-probs
        assert sampled.sum() >= 1
        torch.testing.assert_close(lp[sampled], t.sampler_logprobs[sampled], atol=2e-5, rtol=0)
        # the scripted turn scored as a plain single-turn completion: same numbers
        alone = policy.logprobs([ep.prompt], [0], [t.token_ids[:n_first]]).logprobs[0]
        torch.testing.assert_close(lp[:n_first], alone, atol=2e-5, rtol=0)


def test_unshared_vision_and_gradients(tiny_policy, media_dir):
    """Per-row pixels give the same numbers as shared features, and backward through a sequence with
    masked vision-placeholder positions stays finite."""
    policy = tiny_policy("qwen2_5_vl")
    _, trajs = _trajectories(policy, media_dir, "image", seed=1)
    policy.model.zero_grad()
    shared = trajectory_logprobs(policy, trajs)
    torch.stack([x.sum() for x in shared.logprobs]).sum().backward()
    grads = [p.grad for p in policy.model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert policy.model.model.visual.patch_embed.proj.weight.grad.abs().sum() > 0
    policy.model.zero_grad()
    with torch.no_grad():
        plain = trajectory_logprobs(policy, trajs, share_vision=False)
    for a, b in zip(shared.logprobs, plain.logprobs):
        torch.testing.assert_close(a.detach(), b, atol=1e-5, rtol=0)


def test_mixed_batch_of_plain_and_multiturn_completions(tiny_policy, media_dir):
    """Rows with and without their own media in one forward: each row's vision inputs stay in place."""
    policy = tiny_policy("qwen3_vl")
    ep, (t0, t1) = _trajectories(policy, media_dir, "image", seed=2)
    plain = torch.tensor(policy.tokenizer("<answer>red</answer><|im_end|>", add_special_tokens=False)["input_ids"])
    with torch.no_grad():
        mixed = policy.logprobs([ep.prompt], [0, 0, 0], [t0.completion, plain, t1.completion], micro_batch=3)
        alone = [policy.logprobs([ep.prompt], [0], [c]).logprobs[0] for c in (t0.completion, plain, t1.completion)]
    for a, b in zip(mixed.logprobs, alone):
        torch.testing.assert_close(a, b, atol=2e-5, rtol=0)
    assert mixed.loss_masks[1].tolist() == [1.0] * len(plain)


def test_collector_tool_rollouts_with_hf_generation(tiny_policy, media_dir):
    """The engine's entry point: real generation from turn 1, prompt-major, log-probs match."""
    policy = tiny_policy("qwen2_5_vl")
    cfg = DatasetConfig(name="t", format="jsonl", files=["t.jsonl"], task="vqa", rewards=[],
                        tools=ToolsConfig(enabled=["zoom_in"], max_turns=2))
    samples = [Sample(id=f"t/{k}", dataset="t", task="vqa", prompt="Colour?", solution={"answer": "red"},
                      images=[str(media_dir / "a.png")]) for k in range(2)]
    collector = RolloutCollector(policy, {"t": cfg})
    trajs = collector.trajectories(collector.episodes(samples), 2, SamplingParams(max_new_tokens=8),
                                   generator=torch.Generator().manual_seed(0))
    assert [t.prompt_index for t in trajs] == [0, 0, 1, 1] and all(t.done for t in trajs)
    with torch.no_grad():
        out = trajectory_logprobs(policy, trajs)
    for t, lp in zip(trajs, out.logprobs):
        keep = t.loss_mask.bool()
        torch.testing.assert_close(lp[keep], t.sampler_logprobs[keep], atol=2e-5, rtol=0)
    one = collector.collect(samples[:1], 1, SamplingParams(max_new_tokens=8, temperature=0))
    assert one.seq_prompt == [0] and one.multi_turn == [True] and one.rewards is None
