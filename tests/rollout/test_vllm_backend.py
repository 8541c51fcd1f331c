"""The tool loop's vLLM backend, against a stand-in for the server's client (the real server is
tested in tests/serving): each turn's request is the chat text so far with one unexpanded
placeholder per image / clip, and the media (HWC / THWC uint8) in that order, so vLLM sees exactly
the crops and clips the trainer scores."""

from __future__ import annotations

import numpy as np
import torch

from vrft.data.mixture_config import DatasetConfig, ToolsConfig
from vrft.data.sample import Sample, VideoRef
from vrft.policy.sampling import SamplingParams
from vrft.rollout import VLLMServerBackend, prepare_episode, run_turn_loop

ZOOM_B = '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 42, 84], "image_index": 1}}</tool_call>'
ZOOM_A = '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [98, 56, 196, 112]}}</tool_call>'
CLIP = '<tool_call>{"name": "zoom_in_video", "arguments": {"start": 1, "end": 2.5}}</tool_call>'


class StandInEngine:
    """`VLLMClient.generate`'s interface; answers from a per-call script and records the calls."""

    def __init__(self, tokenizer, replies: list[list[str]]):
        self.tokenizer = tokenizer
        self.replies, self.calls = list(replies), []

    def generate(self, requests, n, params):
        self.calls.append((n, [r["prompt"] for r in requests], requests))
        texts = iter(self.replies.pop(0))
        out = []
        for _ in requests:
            ids = [self.tokenizer(next(texts), add_special_tokens=False)["input_ids"] + [self.tokenizer.eos_token_id]
                   for _ in range(n)]
            out.append([{"token_ids": i, "logprobs": [-0.5] * len(i), "finish_reason": "stop"} for i in ids])
        return out


def episode_with_media(policy, media_dir, images=(), video=None, tools=(), max_turns=4):
    """A prepared episode of one vqa sample with these media (files in ``media_dir``) and tools
    (also used by tests/serving)."""
    sample = Sample(id="t/1", dataset="t", task="vqa", prompt="What colour is it?", solution={"answer": "red"},
                    images=[str(media_dir / im) for im in images],
                    video=VideoRef(str(media_dir / video), 1.0, 4.0) if video else None)
    cfg = DatasetConfig(name="t", format="jsonl", files=["t.jsonl"], task="vqa", rewards=[],
                        tools=ToolsConfig(enabled=list(tools), max_turns=max_turns))
    return prepare_episode(policy, sample, cfg)


def test_each_turn_sends_the_text_so_far_and_the_crops_in_order(tiny_policy, media_dir):
    policy = tiny_policy("qwen2_5_vl")
    ep = episode_with_media(policy, media_dir, ("a.png", "b.png"), tools=("zoom_in",))
    engine = StandInEngine(policy.tokenizer, [[ZOOM_B, "<answer>blue</answer>"], [ZOOM_A], ["<answer>red</answer>"]])
    t, other = run_turn_loop(VLLMServerBackend(policy, engine=engine), policy.processor, [ep], 2, SamplingParams(max_new_tokens=64))
    assert [(n, len(texts)) for n, texts, _ in engine.calls] == [(2, 1), (1, 1), (1, 1)]
    assert (t.final_text, t.n_calls, other.final_text) == ("<answer>red</answer>", 2, "<answer>blue</answer>")
    sizes = [[im.shape[1::-1] for im in media["images"]] for _, _, calls in engine.calls for media in calls]
    prompt = [(196, 112), (84, 168)]  # a.png and b.png as resized for the prompt
    assert sizes == [prompt, prompt + [(56, 84)], prompt + [(56, 84), (112, 56)]]  # then each crop
    for _, texts, calls in engine.calls:
        for text, media in zip(texts, calls):
            assert text.count("<|image_pad|>") == len(media["images"]) and media["videos"] == []
            assert all(im.dtype == np.uint8 and im.shape[2] == 3 for im in media["images"])
    assert engine.calls[1][1][0] == ep.prompt.text + ZOOM_B + t.observations[0]
    assert engine.calls[2][1][0] == ep.prompt.text + t.text.rsplit(t.turns[-1], 1)[0]


def test_video_clips_follow_the_prompt_video(tiny_policy, media_dir):
    policy = tiny_policy("qwen2_5_vl")
    ep = episode_with_media(policy, media_dir, video="v.mp4", tools=("zoom_in_video",))
    engine = StandInEngine(policy.tokenizer, [[CLIP], ["<answer>red</answer>"]])
    (t,) = run_turn_loop(VLLMServerBackend(policy, engine=engine), policy.processor, [ep], 1, SamplingParams(max_new_tokens=64))
    assert t.n_calls == 1 and t.tool_calls[0].valid
    _, (text,), (media,) = engine.calls[1]
    assert len(media["videos"]) == 2 and text.count("<|video_pad|>") == 2
    thwc = [torch.from_numpy(v).permute(0, 3, 1, 2) for v in media["videos"]]
    assert torch.equal(thwc[0], ep.video.frames.to(torch.uint8)) and torch.equal(thwc[1], t.media[0].frames.to(torch.uint8))


def test_sampler_logprobs_and_finish_reasons_come_back(tiny_policy, media_dir):
    policy = tiny_policy("qwen2_5_vl")
    ep = episode_with_media(policy, media_dir, ("a.png",))
    engine = StandInEngine(policy.tokenizer, [["<answer>red</answer>", "<answer>blue</answer>"]])
    trajs = run_turn_loop(VLLMServerBackend(policy, engine=engine), policy.processor, [ep], 2,
                          SamplingParams(max_new_tokens=64))
    assert [t.final_text for t in trajs] == ["<answer>red</answer>", "<answer>blue</answer>"]
    assert all(torch.all(t.sampler_logprobs == -0.5) for t in trajs)


