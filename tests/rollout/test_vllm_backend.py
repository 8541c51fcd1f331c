"""The tool loop's vLLM backend, against a stand-in engine (vLLM needs a GPU): each turn's request
is the chat text so far with one unexpanded placeholder per image / clip, and the media in that
order, so vLLM sees exactly the crops and clips the trainer scores."""

from __future__ import annotations

import torch

from vrft.data.mixture_config import DatasetConfig, ToolsConfig
from vrft.data.sample import Sample, VideoRef
from vrft.policy.sampling import SamplingParams
from vrft.policy.vllm_generator import VLLMGenerator
from vrft.rollout import ScriptedBackend, VLLMBackend, prepare_episode, run_turn_loop

ZOOM_B = '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 42, 84], "image_index": 1}}</tool_call>'
ZOOM_A = '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [98, 56, 196, 112]}}</tool_call>'
CLIP = '<tool_call>{"name": "zoom_in_video", "arguments": {"start": 1, "end": 2.5}}</tool_call>'


class StandInEngine:
    """`VLLMGenerator.generate`'s interface; answers from a per-call script and records the calls."""

    def __init__(self, tokenizer, replies: list[list[str]]):
        self.scripted = ScriptedBackend(tokenizer, lambda i, t: "")
        self.replies, self.calls = list(replies), []

    def generate(self, prompts, n, params, media):
        self.calls.append((n, [p.text for p in prompts], media))
        texts = self.replies.pop(0)
        return [self.scripted.completion(text, params, k // n) for k, text in enumerate(texts)]


def _episode(policy, media_dir, images, video=None, tools=("zoom_in",)):
    sample = Sample(id="t/1", dataset="t", task="vqa", prompt="What colour is it?", solution={"answer": "red"},
                    images=[str(media_dir / im) for im in images],
                    video=VideoRef(str(media_dir / video), 1.0, 4.0) if video else None)
    cfg = DatasetConfig(name="t", format="jsonl", files=["t.jsonl"], task="vqa", rewards=[],
                        tools=ToolsConfig(enabled=list(tools), max_turns=4))
    return prepare_episode(policy, sample, cfg)


def test_each_turn_sends_the_text_so_far_and_the_crops_in_order(tiny_policy, media_dir):
    policy = tiny_policy("qwen2_5_vl")
    ep = _episode(policy, media_dir, ("a.png", "b.png"))
    engine = StandInEngine(policy.tokenizer, [[ZOOM_B, "<answer>blue</answer>"], [ZOOM_A], ["<answer>red</answer>"]])
    t, other = run_turn_loop(VLLMBackend(engine=engine), policy.processor, [ep], 2, SamplingParams(max_new_tokens=64))
    assert [(n, len(texts)) for n, texts, _ in engine.calls] == [(2, 1), (1, 1), (1, 1)]
    assert (t.final_text, t.n_calls, other.final_text) == ("<answer>red</answer>", 2, "<answer>blue</answer>")
    sizes = [[im.size for im in media["image"]] for _, _, calls in engine.calls for media in calls]
    prompt = [(196, 112), (84, 168)]  # a.png and b.png as resized for the prompt
    assert sizes == [prompt, prompt + [(56, 84)], prompt + [(56, 84), (112, 56)]]  # then each crop
    for _, texts, calls in engine.calls:
        for text, media in zip(texts, calls):
            assert text.count("<|image_pad|>") == len(media["image"]) and media["video"] is None
    assert engine.calls[1][1][0] == ep.prompt.text + ZOOM_B + t.observations[0]
    assert engine.calls[2][1][0] == ep.prompt.text + t.text.rsplit(t.turns[-1], 1)[0]


def test_video_clips_follow_the_prompt_video(tiny_policy, media_dir):
    policy = tiny_policy("qwen2_5_vl")
    ep = _episode(policy, media_dir, (), video="v.mp4", tools=("zoom_in_video",))
    engine = StandInEngine(policy.tokenizer, [[CLIP], ["<answer>red</answer>"]])
    (t,) = run_turn_loop(VLLMBackend(engine=engine), policy.processor, [ep], 1, SamplingParams(max_new_tokens=64))
    assert t.n_calls == 1 and t.tool_calls[0].valid
    _, (text,), (media,) = engine.calls[1]
    assert len(media["video"]) == 2 and text.count("<|video_pad|>") == 2
    assert torch.equal(media["video"][0], ep.video.frames) and torch.equal(media["video"][1], t.media[0].frames)


class _RecordingLLM:
    def __init__(self):
        self.requests = []

    def generate(self, requests, sampling_params, use_tqdm):
        self.requests += requests
        return []


def test_generator_passes_several_clips_as_a_list(tiny_policy):
    gen = VLLMGenerator.__new__(VLLMGenerator)  # no engine: vLLM needs a GPU
    gen.tokenizer, gen.asleep, gen.llm = tiny_policy("qwen2_5_vl").tokenizer, False, _RecordingLLM()
    gen._sampling = lambda params, n: None
    clip = torch.full((2, 3, 28, 28), 200.0)
    prompt = type("P", (), {"text": "x"})()
    gen.generate([prompt, prompt, prompt], 1, SamplingParams(),
                 [{"image": [], "video": clip}, {"image": [], "video": [clip, clip[:1]]}, {"image": []}])
    one, two, none = (r.get("multi_modal_data") for r in gen.llm.requests)
    assert one["video"].shape == (2, 28, 28, 3) and one["video"].dtype.name == "uint8"
    assert [v.shape for v in two["video"]] == [(2, 28, 28, 3), (1, 28, 28, 3)] and none is None
