"""The tool loop with a scripted generator: observation turn format, media order, loss masks token by
token, batching per turn, limits, and every invalid call (an error observation, never a raise)."""

import pytest
import torch

from vrft.data.mixture_config import DatasetConfig, ToolsConfig
from vrft.data.sample import Sample, VideoRef
from vrft.policy.sampling import SamplingParams
from vrft.rollout import ScriptedBackend, prepare_episode, run_turn_loop, trajectory_inputs, trajectory_reward_context

ZOOM_B = ('<think>zoom</think><tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 42, 84], '
          '"image_index": 1}}</tool_call>')
ZOOM_A = '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [98, 56, 196, 112]}}</tool_call>'
HEAD, TAIL = "<|im_end|>\n<|im_start|>user\n<tool_response>\n", "\n</tool_response><|im_end|>\n<|im_start|>assistant\n"
VISION = "<|vision_start|><|image_pad|><|vision_end|>"


@pytest.fixture(scope="module")
def policy(tiny_policy):
    return tiny_policy("qwen2_5_vl")  # a.png 200x120 is seen at 196x112, b.png 96x160 at 84x168


def _cfg(tools=("zoom_in",), max_turns=4):
    return DatasetConfig(name="t", format="jsonl", files=["t.jsonl"], task="vqa", rewards=[],
                         tools=ToolsConfig(enabled=list(tools), max_turns=max_turns))


def _sample(media_dir, images=("a.png", "b.png"), video=None, sid="t/1"):
    return Sample(id=sid, dataset="t", task="vqa", prompt="What colour is it?", solution={"answer": "red"},
                  images=[str(media_dir / im) for im in images], meta={"k": 1},
                  video=VideoRef(str(media_dir / video), 1.0, 4.0) if video else None)


def _run(policy, episodes, script, n, max_new_tokens=64, **limits):
    backend = ScriptedBackend(policy.tokenizer, script)
    trajs = run_turn_loop(backend, policy.processor, episodes, n, SamplingParams(max_new_tokens=max_new_tokens),
                          **limits)
    return trajs, backend


def _ids(policy, text):
    return policy.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"][0]


def test_observation_turns_media_order_and_loss_mask(policy, media_dir):
    ep = prepare_episode(policy, _sample(media_dir), _cfg())
    script = [[ZOOM_B, ZOOM_A, "<answer>red</answer>"], ["<answer>blue</answer>"]]
    (t, other), backend = _run(policy, [ep], script, n=2)
    assert backend.calls == [(1, 2), (1, 1), (1, 1)]  # turn 1 for both, then only the active one
    assert (other.finish_reason, other.n_calls, other.media) == ("eos", 0, [])
    assert other.final_text == "<answer>blue</answer>"

    # the observation turns, exactly as rendered by the chat template
    assert t.observations == [
        HEAD + VISION + "Zoomed in on region [0, 0, 42, 84] of image 1." + TAIL,
        HEAD + VISION + "Zoomed in on region [98, 56, 196, 112] of image 0." + TAIL,
    ]
    assert t.turns == [ZOOM_B, ZOOM_A, "<answer>red</answer>"] and t.final_text == "<answer>red</answer>"
    assert (t.finish_reason, t.truncated_reason, t.n_calls, t.n_invalid_calls) == ("eos", None, 2, 0)
    assert [c.result for c in t.tool_calls] == [
        {"image_index": 1, "crop_box": [0, 0, 48, 80], "resized_size": [56, 84]},
        {"image_index": 0, "crop_box": [100, 60, 200, 120], "resized_size": [112, 56]},
    ]

    # the media: crop of image 1, then crop of image 0, after the prompt's two images
    assert [m.original_size for m in t.media] == [(48, 80), (100, 60)]
    c = t.completion
    assert c.image_grid_thw.tolist() == [[1, 6, 4], [1, 4, 8]] and c.pixel_values.shape[0] == 24 + 32
    prompts, seq, comps = trajectory_inputs([t, other])
    assert len(prompts) == 1 and seq == [0, 0] and comps[0] is c

    # token by token: generated turns (loss 1, the final <|im_end|> included), observations (loss 0)
    eos = torch.tensor([policy.tokenizer.convert_tokens_to_ids("<|im_end|>")])
    obs = [_ids(policy, o.replace("<|image_pad|>", "<|image_pad|>" * k)) for o, k in zip(t.observations, (6, 8))]
    pieces = [(_ids(policy, ZOOM_B), 1), (obs[0], 0), (_ids(policy, ZOOM_A), 1), (obs[1], 0),
              (torch.cat([_ids(policy, "<answer>red</answer>"), eos]), 1)]
    assert torch.equal(c.token_ids, torch.cat([p for p, _ in pieces]))
    assert torch.equal(c.loss_mask, torch.cat([torch.full((len(p),), m) for p, m in pieces]))
    image_pad = policy.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert torch.equal(c.mm_token_type_ids, (c.token_ids == image_pad).long())
    assert t.sampler_logprobs.shape == c.token_ids.shape
    assert t.text == "".join([ZOOM_B, t.observations[0], ZOOM_A, t.observations[1], "<answer>red</answer>"])


def test_reward_context_carries_the_trace(policy, media_dir):
    sample = _sample(media_dir)
    ep = prepare_episode(policy, sample, _cfg())
    (t,), _ = _run(policy, [ep], [[ZOOM_A, "<answer>red</answer>"]], n=1)
    ctx = trajectory_reward_context(sample, t)
    assert ctx.tool_calls == t.tool_calls and ctx.tool_calls[0].valid
    assert ctx.images == ep.prompt.image_frames and ctx.solution == {"answer": "red"} and ctx.meta == {"k": 1}
    assert (ctx.task, ctx.dataset, ctx.sample_id) == ("vqa", "t", "t/1")


def test_prompt_has_the_default_tool_system_prompt(policy, media_dir):
    ep = prepare_episode(policy, _sample(media_dir), _cfg())
    assert ep.prompt.text.startswith("<|im_start|>system\nYou are a helpful assistant.\n\n# Tools")
    assert '"name": "zoom_in"' in ep.prompt.text and "zoom_in_video" not in ep.prompt.text
    own = _cfg()
    own.tools.system_prompt = "Use zoom_in."
    text = prepare_episode(policy, _sample(media_dir), own).prompt.text
    assert text.startswith("<|im_start|>system\nUse zoom_in.<|im_end|>")


def test_all_trajectories_advance_in_batches(policy, media_dir):
    eps = [prepare_episode(policy, _sample(media_dir, sid=f"t/{k}"), _cfg()) for k in range(2)]
    calls_per_traj = [0, 1, 2, 0, 2, 1]  # prompt-major: trajectories 0-2 of prompt 0, 3-5 of prompt 1

    def script(i, turn):
        return ZOOM_A if turn < calls_per_traj[i] else f"<answer>{i}</answer>"

    trajs, backend = _run(policy, eps, script, n=3)
    assert backend.calls == [(2, 3), (4, 1), (2, 1)]
    assert [t.n_calls for t in trajs] == calls_per_traj
    assert [t.prompt_index for t in trajs] == [0, 0, 0, 1, 1, 1]
    assert [t.final_text for t in trajs] == [f"<answer>{i}</answer>" for i in range(6)]


def test_turn_limit(policy, media_dir):
    ep = prepare_episode(policy, _sample(media_dir), _cfg(max_turns=2))
    (t,), _ = _run(policy, [ep], lambda i, turn: ZOOM_A, n=1)
    assert (t.finish_reason, t.truncated_reason, t.truncated) == ("max_turns", "max_turns", True)
    assert len(t.turns) == 2 and t.n_calls == 1 and len(t.observations) == 1  # the last call is not run
    assert t.final_text == ZOOM_A and int(t.loss_mask[-1]) == 1


def test_image_limit(policy, media_dir):
    ep = prepare_episode(policy, _sample(media_dir), _cfg())
    (t,), _ = _run(policy, [ep], lambda i, turn: ZOOM_A, n=1, max_images=1)
    assert t.finish_reason == "max_images" and t.n_calls == 2 and len(t.media) == 1 and len(t.turns) == 2


def test_token_limits(policy, media_dir):
    ep = prepare_episode(policy, _sample(media_dir), _cfg())
    (full,), _ = _run(policy, [ep], [[ZOOM_A, "<answer>red</answer>"]], n=1)
    first = len(_ids(policy, ZOOM_A))
    obs_len = full.completion.length - first - len(_ids(policy, "<answer>red</answer>")) - 1
    # the second turn is cut at the budget
    (t,), _ = _run(policy, [ep], [[ZOOM_A, "<answer>red</answer>"]], n=1, max_total_tokens=first + obs_len + 3)
    assert t.finish_reason == "max_total_tokens" and t.length == first + obs_len + 3
    assert torch.equal(t.token_ids, full.token_ids[:t.length])
    assert t.turns[-1] == policy.tokenizer.decode(t.token_ids[-3:])
    # the observation does not fit: stop before appending it
    (t,), _ = _run(policy, [ep], [[ZOOM_A, "<answer>red</answer>"]], n=1, max_total_tokens=first + obs_len)
    assert t.finish_reason == "max_total_tokens" and t.length == first and t.n_calls == 1 and not t.observations
    # a turn reaching max_new_tokens
    (t,), _ = _run(policy, [ep], [["<answer>" + "red " * 40 + "</answer>"]], n=1, max_new_tokens=5)
    assert (t.finish_reason, t.truncated_reason, t.length, int(t.loss_mask.sum())) == ("length", "length", 5, 5)


ZOOM = '<tool_call>{{"name": "zoom_in", "arguments": {{"bbox_2d": {}}}}}</tool_call>'
VIDEO = '<tool_call>{{"name": "zoom_in_video", "arguments": {}}}</tool_call>'
INVALID = [
    ('<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 3, 4]}</tool_call>', "not valid JSON"),
    ('<tool_call>{"name": "crop", "arguments": {"bbox_2d": [1, 2, 3, 4]}}</tool_call>',
     "unknown tool 'crop'; available tools: zoom_in, zoom_in_video"),
    ('<tool_call>{"name": "zoom_in", "arguments": {}}</tool_call>', "missing argument 'bbox_2d'"),
    (ZOOM.format('["a", 2, 3, 4]'), "must be a number, got 'a'"),
    (ZOOM.format("[NaN, 2, 3, 4]"), "finite"),
    (ZOOM.format("[1, 2, Infinity, 4]"), "finite"),
    (ZOOM.format("[10, 10, 10, 20]"), "empty or inverted"),
    (ZOOM.format("[50, 10, 10, 20]"), "empty or inverted"),
    (ZOOM.format("[500, 500, 600, 600]"), "outside the image, which spans [0, 0, 196, 112]"),
    (ZOOM.format("[1, 2, 3]"), "list of 4 numbers"),
    ('<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 30, 40], "image_index": 3}}</tool_call>',
     "image_index 3 is out of range; there is 1 image"),
    (VIDEO.format('{"start": 2, "end": 1}'), "empty or inverted"),
    (VIDEO.format('{"start": 5, "end": 9}'), "outside the video, which spans 0.00-3.00 s"),
    (VIDEO.format('{"start": "1", "end": 2}'), "start must be a number"),
    (VIDEO.format('{"start": 1}'), "missing argument 'end'"),
    ("<tool_call>{}", "no closing </tool_call>"),
]


def test_every_invalid_call_is_an_error_observation(policy, media_dir):
    ep = prepare_episode(policy, _sample(media_dir, images=("a.png",), video="v.mp4"),
                         _cfg(tools=("zoom_in", "zoom_in_video")))
    trajs, _ = _run(policy, [ep], lambda i, turn: [INVALID[i][0], "<answer>red</answer>"][turn], n=len(INVALID))
    for t, (text, message) in zip(trajs, INVALID):
        call = t.tool_calls[0]
        assert not call.valid and message in call.error, (text, call.error)
        assert t.observations[-1].endswith(f"Error: {call.error}{TAIL}")
        assert (t.n_calls, t.n_invalid_calls, t.finish_reason, t.final_text) == (1, 1, "eos", "<answer>red</answer>")
        assert not t.media and t.completion.pixel_values is None
    # a call without its closing tag ended the turn with <|im_end|> (loss 1): the template's is dropped
    last = trajs[-1]
    assert last.observations[0].startswith("\n<|im_start|>user\n<tool_response>\n")
    n_turn = len(_ids(policy, "<tool_call>{}")) + 1
    assert last.loss_mask[:n_turn].tolist() == [1] * n_turn and int(last.loss_mask[n_turn]) == 0


def test_video_tool_on_an_image_task(policy, media_dir):
    ep = prepare_episode(policy, _sample(media_dir), _cfg(tools=("zoom_in", "zoom_in_video")))
    (t,), _ = _run(policy, [ep], [[VIDEO.format('{"start": 0, "end": 1}'), "<answer>red</answer>"]], n=1)
    assert t.tool_calls[0].error == "zoom_in_video: this task has no video" and t.finish_reason == "eos"


def test_rank_sync_keeps_an_idle_rank_decoding(policy, media_dir):
    """Under a sharded backend every forward is collective: a rank whose trajectories are done keeps
    generating (a dummy row) until lockstep says every rank is done."""
    ep = prepare_episode(policy, _sample(media_dir), _cfg())
    seen = []

    def all_finished(local_done):
        seen.append(local_done)
        return local_done and len(seen) >= 3  # another rank needs two more turns

    backend = ScriptedBackend(policy.tokenizer, lambda i, turn: "<answer>red</answer>")
    (t,) = run_turn_loop(backend, policy.processor, [ep], 1, SamplingParams(), lockstep=all_finished)
    assert backend.calls == [(1, 1), (1, 1), (1, 1)] and seen == [True, True, True]
    assert t.turns == ["<answer>red</answer>"] and t.finish_reason == "eos"
