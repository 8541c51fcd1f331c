"""DAPO dynamic sampling on a tiny model: flat groups are dropped and refilled, and still inform
the difficulty tracker."""

from __future__ import annotations

import pytest
import yaml

from rewards.registry import register_reward, unregister_reward
from vrft.config import load_config
from vrft.data.mixture import MixtureData
from vrft.data.mixture_config import load_mixture_config
from vrft.grpo.trainer import GRPOTrainer


@pytest.fixture
def flat_colour_reward():
    @register_reward("test_flat", score_range=(0.0, 1.0))
    def flat(completion, ctx):
        """The same score for every completion: a group with no learning signal."""
        return 0.5

    yield "test_flat"
    unregister_reward("test_flat")


def _expected_draws(mixture_path, batch_size, seed, max_attempts):
    """Replay the sampler: grounding groups have signal (an injected answer beside sampled ones),
    colour groups never do. Returns (refills, ids of the groups drawn and not trained)."""
    data = MixtureData.build(load_mixture_config(mixture_path), batch_size, seed=seed)
    first = data.next_batch()
    kept = [s.id for s in first if s.dataset == "grounding"]
    flat = [s.id for s in first if s.dataset != "grounding"]
    dropped, refills = [], 0
    for _ in range(max_attempts):
        if len(kept) >= batch_size:
            break
        more = data.next_batch()
        refills += 1
        kept += [s.id for s in more if s.dataset == "grounding"]
        dropped += [s.id for s in more if s.dataset != "grounding"]
    n_signal = min(batch_size, len(kept))
    dropped += kept[n_signal:] + flat[batch_size - n_signal:]
    return refills, dropped


@pytest.mark.slow
def test_dynamic_sampling_drops_refills_and_feeds_difficulty(run_overrides, small_mixture, tmp_path,
                                                             flat_colour_reward):
    mix = yaml.safe_load(open(small_mixture))
    mix["mixture"] = {"strategy": "fixed"}
    mix["datasets"][0]["rewards"] = [{"name": flat_colour_reward}]  # colour: every group flat
    path = tmp_path / "mix.yaml"
    path.write_text(yaml.safe_dump(mix))
    cfg = load_config(None, run_overrides(**{"data.config": path, "algo.dynamic_sampling.enabled": "true",
                                             "algo.dynamic_sampling.max_attempts": 3,
                                             "rollout.prompts_per_step": 4, "rollout.num_generations": 2}))
    refills, dropped = _expected_draws(str(path), 4, cfg.train.seed, 3)
    assert refills >= 1 and dropped, "the seed must force at least one refill and one drop"
    trainer = GRPOTrainer(cfg)
    metrics = trainer.train_step()
    assert metrics["rollout/dynamic_refills"] == refills
    # Every dropped group was observed: its prompt now has a posterior.
    assert all(i in trainer.data.difficulty.posteriors for i in dropped)
