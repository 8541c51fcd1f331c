"""The supervised warm-up's curriculum: which datasets each warm-up step draws from."""

from __future__ import annotations

import pytest

from vrft.config import ConfigError, config_from_dict
from vrft.data.mixture_sampler import MixtureSampler
from vrft.grpo.sft_warmup import stage_plan, stage_weights


def _train(overrides):
    return config_from_dict({}, overrides, world_size=1).train


def test_stage_plan_restricts_then_restores_the_mixture():
    train = _train(["train.warmup_sft_steps=10",
                    "train.warmup_sft_curriculum=[{datasets: [color], steps: 3}, {datasets: [chart, gui], steps: 2}]"])
    plan = stage_plan(train, ["color", "chart", "gui"])
    mixture = {"color": 0.5, "chart": 0.3, "gui": 0.2}
    assert sorted(plan) == [0, 3, 5]
    assert stage_weights(mixture, plan[0]) == {"color": 0.5, "chart": 0.0, "gui": 0.0}
    assert stage_weights(mixture, plan[3]) == {"color": 0.0, "chart": 0.3, "gui": 0.2}
    assert stage_weights(mixture, plan[5]) == mixture


def test_stage_weights_of_a_zero_weight_dataset_are_equal():
    assert stage_weights({"a": 1.0, "b": 0.0}, frozenset({"b"})) == {"a": 0.0, "b": 1.0}


def test_a_stage_draws_only_its_datasets():
    sampler = MixtureSampler({"color": list(range(20)), "chart": list(range(20))}, {"color": 0.5, "chart": 0.5},
                             batch_size=4, seed=0)
    plan = stage_plan(_train(["train.warmup_sft_steps=5", "train.warmup_sft_curriculum=[{datasets: [chart], steps: 3}]"]),
                      sampler.names)
    sampler.set_weights(stage_weights({"color": 0.5, "chart": 0.5}, plan[0]))
    drawn = {name for _ in range(3) for name, _ in sampler.next_global_indices()}
    assert drawn == {"chart"}


def test_unknown_curriculum_dataset_names_the_key():
    train = _train(["train.warmup_sft_steps=10", "train.warmup_sft_curriculum=[{datasets: [colour], steps: 3}]"])
    with pytest.raises(ValueError, match=r"warmup_sft_curriculum\[0\].datasets.*colour"):
        stage_plan(train, ["color"])


@pytest.mark.parametrize("value, key", [
    ("[{datasets: [color], steps: 11}]", "train.warmup_sft_curriculum"),
    ("[{datasets: [color], steps: 0}]", "train.warmup_sft_curriculum[0].steps"),
    ("[{datasets: [], steps: 2}]", "train.warmup_sft_curriculum[0].datasets"),
])
def test_bad_curriculum_config_names_the_key(value, key):
    with pytest.raises(ConfigError) as info:
        config_from_dict({}, ["train.warmup_sft_steps=10", f"train.warmup_sft_curriculum={value}"], world_size=1)
    assert info.value.key == key


def test_no_warmup_ignores_the_curriculum():  # the demo config with train.warmup_sft_steps=0 (a real model)
    train = _train(["train.warmup_sft_steps=0", "train.warmup_sft_curriculum=[{datasets: [color], steps: 300}]"])
    assert train.warmup_sft_steps == 0
