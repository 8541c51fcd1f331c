"""`model.gradient_checkpointing: true` really checkpoints in the update (HF layers only checkpoint
in train mode, and from_pretrained returns eval mode), and changes no gradient."""

from __future__ import annotations

import torch

from tests.perf.test_shared_prefix import _prompts, _rollouts, assert_close_to_scale
from vrft.grpo.update import checkpointing_train_mode


def _layer_calls_and_grads(policy, prompts, seq, toks):
    """Calls of decoder layer 0's MLP during one scored forward + backward (the recompute of a
    checkpointed layer runs it again in the backward), and the gradients."""
    from vrft.policy.unwrap import core

    mlp = core(policy.model).language_model.layers[0].mlp
    calls, forward = [], mlp.forward

    def counted(*args, **kwargs):
        calls.append(1)
        return forward(*args, **kwargs)

    mlp.forward = counted
    try:
        checkpointing_train_mode(policy.model)
        out = policy.logprobs(prompts, seq, toks, shared_prefix=True)
        sum(lp.sum() for lp in out.logprobs).backward()
    finally:
        del mlp.forward
    grads = {n: p.grad.clone() for n, p in policy.model.named_parameters() if p.grad is not None}
    return len(calls), grads


def test_checkpointing_recomputes_and_gives_the_same_gradients(tiny_model_dir, media_dir):
    from vrft.policy.loading import LoadSettings
    from vrft.policy.policy import Policy

    results = {}
    for ckpt in (False, True):
        policy = Policy.from_pretrained(tiny_model_dir("qwen2_5_vl"), LoadSettings(gradient_checkpointing=ckpt))
        assert not policy.model.training  # from_pretrained leaves eval mode
        prompts = _prompts(policy, media_dir)[:2]
        seq, toks = _rollouts(policy, prompts, n=2, seed=7)
        results[ckpt] = _layer_calls_and_grads(policy, prompts, seq, toks)
        # Without checkpointing the mode is left alone; with it, the update trains in train mode.
        assert policy.model.training is ckpt
        # Generation still runs in eval mode and restores the update's mode afterwards.
        policy.generate(prompts[:1], n=1, params=_params())
        assert policy.model.training is ckpt
    (calls_off, grads_off), (calls_on, grads_on) = results[False], results[True]
    assert calls_off == 1 and calls_on == 2  # the backward ran layer 0's forward again
    assert grads_off.keys() == grads_on.keys()
    for name in grads_off:
        assert_close_to_scale(grads_off[name], grads_on[name], name)


def _params():
    from vrft.policy.sampling import SamplingParams

    return SamplingParams(max_new_tokens=2)
