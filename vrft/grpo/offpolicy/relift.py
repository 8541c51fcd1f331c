"""ReLIFT ("Learning What Reinforcement Learning Can't", Ma et al., arXiv 2506.07527): questions the
policy fails on, whole group, are collected with their reference solutions and trained on by
supervised steps interleaved with the RL steps.

After every RL step each group whose *sampled* rows all scored at most ``algo.relift.fail_threshold``
(injected expert rows do not count) adds its sample to a buffer; the buffer holds the global list
(every rank gathers every rank's failures, so all ranks agree on it and on when to train). When it
holds ``algo.relift.batch_size`` questions, the oldest ``batch_size`` are taken out and one
supervised step runs on their rendered ground-truth completions (the same rendering as injection and
the warm-up), through the training backend's optimizer:

    L_SFT = - (1 / N) * sum_{i in batch} (1 / |y_i|) * sum_t log pi_theta(y_i,t | x_i, y_i,<t)

(N = ``batch_size``; each rank trains its share ``i = rank, rank + world, ...``). The buffer is part
of the checkpoint (``run_state``), so a resumed run trains the same questions at the same steps.
"""

from __future__ import annotations

import torch

from vrft.rollout import RolloutBatch, supervised_pairs


def failed_groups(batch: RolloutBatch, threshold: float) -> list:
    """The samples of ``batch`` whose valid sampled rows all scored <= ``threshold`` (at least one)."""
    out = []
    for p, sample in enumerate(batch.samples):
        rows = [i for i in batch.rows_of(p) if not batch.injected[i] and bool(batch.valid[i])]
        if rows and all(float(batch.rewards[i]) <= threshold for i in rows):
            out.append(sample)
    return out


def sft_loss_B(logps: list[torch.Tensor]) -> torch.Tensor:
    """(B,) per-sample mean token negative log-likelihood."""
    return -torch.stack([lp.mean() for lp in logps])


class Relift:
    """The buffer of failed questions and the interleaved SFT step (inactive unless enabled)."""

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.buffer: list = []
        self.sft_steps = 0

    def after_step(self, trainer, batch: RolloutBatch) -> dict[str, float]:
        if not self.cfg.enabled:
            return {}
        local = failed_groups(batch, self.cfg.fail_threshold)
        self.buffer.extend(s for part in trainer.backend.gather_objects(local) for s in part)
        metrics = {"relift/buffer": float(len(self.buffer)), "relift/sft_steps": float(self.sft_steps)}
        if len(self.buffer) >= self.cfg.batch_size:
            take, self.buffer = self.buffer[:self.cfg.batch_size], self.buffer[self.cfg.batch_size:]
            metrics["relift/sft_loss"] = self.sft_step(trainer, take)
            self.sft_steps += 1
            metrics["relift/sft_steps"] = float(self.sft_steps)
        return metrics

    def sft_step(self, trainer, samples: list) -> float:
        """One supervised step on ``samples`` (global; this rank trains its share); the global loss."""
        policy, backend, info = trainer.policy, trainer.backend, trainer.info
        mine = samples[info.rank::info.world]
        prompts, targets = supervised_pairs(policy, mine, trainer.data.configs)
        backend.zero_grad()
        with backend.accumulating(last=True):
            with backend.autocast():
                out = policy.logprobs(prompts, list(range(len(prompts))), targets)
            loss = sft_loss_B(out.logprobs).sum() / len(samples)  # this rank's share of the global mean
            backend.backward(loss)
        backend.optimizer_step(trainer.cfg.train.grad_clip)
        total = backend.reduce_sum(loss.detach().double().reshape(1).cpu())
        return float(total[0])

    def state_dict(self) -> dict:
        return {"buffer": list(self.buffer), "sft_steps": self.sft_steps}

    def load_state_dict(self, state: dict) -> None:
        self.buffer, self.sft_steps = list(state["buffer"]), int(state["sft_steps"])
