"""Supervised warm-up on ground-truth completions before GRPO.

A random or weak policy may never sample a rewarded answer, and GRPO learns nothing from groups
whose rewards are all equal. A few supervised steps on the rendered solutions (the same rendering
as ground-truth injection) put the policy where rewards vary. Curriculum stages
(`train.warmup_sft_curriculum`) first train on a subset of the mixture: skills a tiny model picks
up alone (seeing colours) it may never pick up while eight tasks pull on the same weights.
"""

from __future__ import annotations

import torch

from vrft.grpo.model_setup import lr_lambda
from vrft.rollout import supervised_pairs


def stage_weights(mixture: dict[str, float], keep: frozenset | None) -> dict[str, float]:
    """The mixture restricted to `keep` (equal weights there if the mixture gives them none);
    None: the whole mixture."""
    if keep is None:
        return dict(mixture)
    if sum(mixture[n] for n in keep) <= 0:
        return {n: float(n in keep) for n in mixture}
    return {n: (w if n in keep else 0.0) for n, w in mixture.items()}


def stage_plan(train_cfg, names: list[str]) -> dict[int, frozenset | None]:
    """{first step of a stage: the datasets it draws from}: the curriculum stages in order, then
    None (the whole mixture)."""
    plan, start = {}, 0
    for i, stage in enumerate(train_cfg.warmup_sft_curriculum):
        unknown = sorted(set(stage.datasets) - set(names))
        if unknown:
            raise ValueError(f"train.warmup_sft_curriculum[{i}].datasets: {unknown} not in the mixture {names}")
        plan[start] = frozenset(stage.datasets)
        start += stage.steps
    plan[start] = None
    return plan


def sft_warmup(trainer):
    """Yield the metrics of each of `train.warmup_sft_steps` supervised steps: the loss (the mean
    over samples of each one's mean token NLL), the same per dataset, and the learning rate."""
    cfg, policy = trainer.cfg, trainer.policy
    lr = cfg.train.warmup_sft_lr or cfg.train.lr
    params = [p for p in policy.model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lr_lambda(cfg.train.warmup_sft_lr_schedule, 0, cfg.train.warmup_sft_steps))
    plan = stage_plan(cfg.train, trainer.data.sampler.names)
    mixture = dict(zip(trainer.data.sampler.names, trainer.data.sampler.weights))
    for step in range(cfg.train.warmup_sft_steps):
        if step in plan:
            trainer.data.sampler.set_weights(stage_weights(mixture, plan[step]))
        samples = trainer.data.sampler.next_batch()
        prompts, targets = supervised_pairs(policy, samples, trainer.data.configs)
        with trainer.backend.autocast():
            out = policy.logprobs(prompts, list(range(len(prompts))), targets)
        # Each sample weighs the same: a token mean would let long answers (detection lists,
        # boxes) drown the short ones (a colour word) in a mixed batch.
        per_sample = -torch.stack([lp.mean() for lp in out.logprobs])
        loss = per_sample.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.train.grad_clip or float("inf"))
        opt.step()
        metrics = {"sft/loss": float(loss.detach()), "sft/lr": sched.get_last_lr()[0]}
        for name in sorted({s.dataset for s in samples}):  # which datasets the warm-up is learning
            rows = [i for i, s in enumerate(samples) if s.dataset == name]
            metrics[f"sft/{name}/loss"] = float(per_sample[rows].detach().mean())
        yield metrics
        sched.step()
    trainer.data.sampler.set_weights(mixture)
