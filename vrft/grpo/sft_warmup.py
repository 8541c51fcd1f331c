"""Supervised warm-up on ground-truth completions before GRPO.

A random or weak policy may never sample a rewarded answer, and GRPO learns nothing from groups
whose rewards are all equal. A few supervised steps on the rendered solutions (the same rendering
as ground-truth injection) put the policy where rewards vary.
"""

from __future__ import annotations

import torch

from vrft.grpo.model_setup import lr_lambda
from vrft.grpo.rollout import encode_sample, ground_truth_tokens


def sft_warmup(trainer):
    """Yield metrics of each of `train.warmup_sft_steps` supervised steps (mean token NLL)."""
    cfg, policy = trainer.cfg, trainer.policy
    lr = cfg.train.warmup_sft_lr or cfg.train.lr
    params = [p for p in policy.model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lr_lambda(cfg.train.warmup_sft_lr_schedule, 0, cfg.train.warmup_sft_steps))
    for _ in range(cfg.train.warmup_sft_steps):
        samples = trainer.sampler.next_batch()
        prompts, targets = [], []
        for s in samples:
            dcfg = trainer.data[s.dataset].config
            prompt = encode_sample(policy, s, dcfg)
            prompts.append(prompt)
            targets.append(ground_truth_tokens(policy, s, prompt, dcfg)[0])
        out = policy.logprobs(prompts, list(range(len(prompts))), targets)
        # Each sample weighs the same: a token mean would let long answers (detection lists,
        # boxes) drown the short ones (a colour word) in a mixed batch.
        loss = -torch.stack([lp.mean() for lp in out.logprobs]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.train.grad_clip or float("inf"))
        opt.step()
        yield {"sft/loss": float(loss.detach()), "sft/lr": sched.get_last_lr()[0]}
        sched.step()
