"""vrft's vLLM server (its own process and environment) against the trainer, on a tiny Qwen2.5-VL.

Tolerances (float32 on both sides, CPU): sampler log-probs vs the trainer's recomputed ones, and the
server's scores of a fixed continuation vs the trainer's after a weight update, agree within
``ATOL`` = 1e-3 (measured: ~1e-6); the update moves the scores by far more (``MOVED`` = 0.1; measured
~1), so a sync that silently does nothing, or loads the wrong names, fails."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from tests.rollout.test_vllm_backend import episode_with_media
from tests.serving.conftest import start_server
from vrft.grpo.step_rollout import hf_weights
from vrft.policy.logprobs import completion_logprobs
from vrft.policy.policy import Policy
from vrft.policy.sampling import SamplingParams
from vrft.rollout import ScriptedBackend, VLLMServerBackend, run_turn_loop
from vrft.rollout.vllm_client import VLLMServerError

pytestmark = pytest.mark.slow
ATOL, MOVED = 1e-3, 0.1
ZOOM = '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 98, 56]}}</tool_call>'


_episode = functools.partial(episode_with_media, max_turns=3)


def _raw_logprobs(policy, ep, completions):
    """The trainer's log-probs at temperature 1 without the vision-token suppression (as /score)."""
    return completion_logprobs(policy.model, [ep.prompt] * len(completions), list(range(len(completions))),
                               completions, pad_id=policy.pad_id, suppress_ids=None).logprobs


@pytest.fixture(scope="module")
def policy(vllm_model_dir):
    return Policy.from_pretrained(vllm_model_dir)


class FirstTurnScripted:
    """Turn 1 scripted (a zoom call: a random model never makes one), later turns through the server."""

    collective = False

    def __init__(self, policy, server):
        self.scripted = ScriptedBackend(policy.tokenizer, lambda i, t: ZOOM)
        self.server = server

    def generate(self, requests, n, params, **kw):
        first = all(r.turn == 0 for r in requests)
        return (self.scripted if first else self.server).generate(requests, n, params, **kw)


def test_image_multi_image_video_and_zoom_prompts_roll_out(policy, vllm_server, media_dir):
    _, client = vllm_server
    backend = VLLMServerBackend(policy, engine=client)
    params = SamplingParams(max_new_tokens=12)
    for images, video in [(("a.png",), None), (("a.png", "b.png"), None), ((), "v.mp4")]:
        trajs = run_turn_loop(backend, policy.processor, [_episode(policy, media_dir, images, video)], 3, params)
        assert len(trajs) == 3
        for t in trajs:
            assert 1 <= len(t.completion) <= 12 and t.sampler_logprobs.shape == (len(t.completion),)
            assert torch.all(t.sampler_logprobs <= 0)
    # A zoom episode: turn 2 goes to the server with the prompt image and the crop, in order.
    ep = _episode(policy, media_dir, ("a.png",), tools=("zoom_in",))
    (t,) = run_turn_loop(FirstTurnScripted(policy, backend), policy.processor, [ep], 1,
                         SamplingParams(max_new_tokens=96))
    assert t.n_calls == 1 and t.tool_calls[0].valid and len(t.turns) == 2 and len(t.media) == 1


def test_sampler_logprobs_match_the_trainers(policy, vllm_server, media_dir):
    _, client = vllm_server
    ep = _episode(policy, media_dir, ("a.png", "b.png"))
    backend = VLLMServerBackend(policy, engine=client)
    trajs = run_turn_loop(backend, policy.processor, [ep], 4, SamplingParams(max_new_tokens=16))
    trainer = policy.logprobs([ep.prompt] * 4, [0, 1, 2, 3], [t.completion for t in trajs]).logprobs
    gap = max(float((t.sampler_logprobs - lp).abs().max()) for t, lp in zip(trajs, trainer))
    assert gap < ATOL, f"sampler vs trainer log-prob gap {gap}"


def _scores(client, ep, cont):
    req = {**VLLMServerBackend.request(ep.request([])), "continuation": cont.tolist()}
    return torch.tensor(client.score([req])[0])


@pytest.mark.parametrize("via", ["broadcast", "file"])
def test_weight_update_reaches_the_server(policy, vllm_server, media_dir, tmp_path, via):
    _, client = vllm_server
    ep = _episode(policy, media_dir, ("a.png",))
    cont = torch.tensor(policy.tokenizer("<answer>red</answer>", add_special_tokens=False)["input_ids"])
    before = _scores(client, ep, cont)
    torch.testing.assert_close(before, _raw_logprobs(policy, ep, [cont])[0], atol=ATOL, rtol=0)
    g = torch.Generator().manual_seed(1 if via == "file" else 0)
    with torch.no_grad():
        for p in policy.model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.02)
    named = hf_weights(policy.model, None)
    sent = client.push_weights(named) if via == "broadcast" else client.push_weights_file(named, str(tmp_path / "w.st"))
    assert sent == len(named)
    after = _scores(client, ep, cont)
    trainer = _raw_logprobs(policy, ep, [cont])[0]
    assert float((after - trainer).abs().max()) < ATOL
    assert float((after - before).abs().max()) > MOVED


def test_a_killed_server_gives_a_clear_error(vllm_model_dir, tmp_path):
    proc, client = start_server(vllm_model_dir, tmp_path / "server.log")
    proc.kill()
    proc.wait(timeout=60)
    with pytest.raises(VLLMServerError, match=client.url):
        client.generate([{"prompt": "hi"}], 1, {"max_tokens": 4})
    client.timeout_s = 5
    with pytest.raises(VLLMServerError, match=client.url):
        client.push_weights([("lm_head.weight", torch.zeros(2))])
    assert np.isfinite(client.timeout_s)


def test_sleep_mode_is_refused_at_start_on_cpu(vllm_model_dir, tmp_path):
    log = tmp_path / "server.log"
    with pytest.raises(VLLMServerError, match="exited"):
        start_server(vllm_model_dir, log, extra=("--sleep-mode",))
    assert "--sleep-mode: vLLM's sleep mode needs a CUDA or ROCm GPU" in log.read_text()


def test_a_server_without_sleep_mode_refuses_sleep_and_keeps_serving(vllm_server):
    _, client = vllm_server
    assert client.health()["sleep_mode"] is False
    with pytest.raises(VLLMServerError, match="409.*without --sleep-mode"):
        client.sleep(1)
    with pytest.raises(VLLMServerError, match="409.*without --sleep-mode"):
        client.wake_up()
    out = client.generate([{"prompt": "hi"}], 2, {"max_tokens": 4})
    assert len(out) == 1 and len(out[0]) == 2
