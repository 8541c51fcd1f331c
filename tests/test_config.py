"""Typed config: YAML + dotted overrides, errors naming the key, cross-field checks, round trip."""

from __future__ import annotations

import dataclasses
import warnings

import pytest
import yaml

from vrft.config import (
    Config, ConfigError, check_tiny, config_from_dict, describe, field_docs, iter_fields, load_config,
    parse_override, resolve_batching, save_config, to_yaml,
)
from vrft.grpo.config_names import CONFIG_REGISTRIES


def _err(overrides, world_size=1) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        config_from_dict({}, overrides, world_size=world_size, registries=CONFIG_REGISTRIES)
    return info.value


def test_registry_names_are_checked_against_the_registries_the_caller_passes():
    e = _err(["algo.loss=dapoo"])
    assert e.key == "algo.loss" and "did you mean 'dapo'" in str(e) and "valid names: [" in str(e)
    assert config_from_dict({}, ["algo.loss=dapoo"], world_size=1).algo.loss == "dapoo"  # config alone: no check


def test_defaults_are_valid_and_equal_the_dataclass():
    cfg = load_config(None, world_size=1)
    assert cfg == Config()
    assert cfg.model.name_or_path == "tiny:qwen2_5_vl" and cfg.algo.loss == "dapo"
    assert cfg.rollout.num_generations * cfg.rollout.prompts_per_step == 8


def test_every_field_has_a_docstring():
    leaves = list(iter_fields(Config))
    assert len(leaves) > 60
    missing = [key for key, _, _, doc in leaves if not doc.strip()]
    assert not missing, f"fields without a docstring: {missing}"
    assert set(field_docs(Config)) == {f.name for f in dataclasses.fields(Config)}
    text = describe()
    for key, *_ in leaves:
        assert key + " (" in text


def test_tiny_section_is_the_tiny_model_size():
    from vrft.policy.tiny_model import TinySize

    assert TinySize is type(Config().model.tiny)  # one definition, in vrft/config/sections.py
    with pytest.raises(ConfigError, match="size.kv_heads: 3 must divide size.heads"):
        check_tiny(TinySize(kv_heads=3), "size")


def test_yaml_file_with_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(
        "model:\n  name_or_path: tiny:qwen2_vl\n  lora: {enabled: true}\n"
        "train:\n  lr: 1e-4  # YAML 1.1 reads this as a string; the float field accepts it\n  steps: 5\n"
        "rollout:\n  num_generations: 8\n")
    cfg = load_config(path, ["train.steps=7", "model.lora.target_modules=[q_proj, v_proj]",
                             "algo.gt_injection.enabled=true", "algo.gt_injection.until_step=null",
                             "train.bf16=false", "train.warmup_sft_lr=5e-5"], world_size=1)
    assert cfg.train.lr == pytest.approx(1e-4) and isinstance(cfg.train.lr, float)
    assert cfg.train.steps == 7
    assert cfg.model.name_or_path == "tiny:qwen2_vl" and cfg.model.lora.enabled
    assert cfg.model.lora.target_modules == ["q_proj", "v_proj"]
    assert cfg.rollout.num_generations == 8 and cfg.rollout.prompts_per_step == 2
    assert cfg.algo.gt_injection.enabled and cfg.algo.gt_injection.until_step is None
    assert cfg.train.bf16 is False and cfg.train.warmup_sft_lr == pytest.approx(5e-5)


def test_later_override_wins_and_ints_become_floats():
    cfg = config_from_dict({}, ["train.lr=1", "train.lr=0.5", "algo.beta=0"], world_size=1)
    assert cfg.train.lr == 0.5 and isinstance(cfg.algo.beta, float)


def test_parse_override():
    assert parse_override("a.b=[1,2]") == ("a.b", [1, 2])
    assert parse_override("a.b=true") == ("a.b", True)
    assert parse_override("a.b= hello world ") == ("a.b", "hello world")
    assert parse_override("a.b=") == ("a.b", None)
    assert parse_override("a=x=y") == ("a", "x=y")
    with pytest.raises(ConfigError, match="key.sub=value"):
        parse_override("train.lr")
    with pytest.raises(ConfigError, match="key.sub=value"):
        parse_override("=3")


def test_unknown_keys_suggest_the_dotted_name():
    e = _err(["train.lrr=1e-4"])
    assert e.key == "train.lrr" and "did you mean 'train.lr'" in str(e)
    e = _err(["modle.dtype=auto"])
    assert e.key == "modle" and "did you mean 'model'" in str(e)
    e = _err(["model.lora.rank=8"])
    assert e.key == "model.lora.rank" and ("valid keys here" in str(e) or "did you mean" in str(e))


def test_wrong_types_name_the_key():
    assert _err(["train.steps=1.5"]).key == "train.steps"
    assert _err(["train.steps=true"]).key == "train.steps"  # bools are not ints
    assert _err(["train.lr=true"]).key == "train.lr"
    assert _err(["train.lr=fast"]).key == "train.lr"
    assert _err(["model.lora.enabled=1"]).key == "model.lora.enabled"
    e = _err(["model.dtype=fp32"])
    assert e.key == "model.dtype" and "'bfloat16'" in str(e)
    assert _err(["train.bf16=maybe"]).key == "train.bf16"
    assert _err(["model.lora.target_modules=[1, q]"]).key == "model.lora.target_modules[0]"
    assert _err(["model.lora=3"]).key == "model.lora"
    assert _err(["rollout.vllm.sleep_level=3"]).key == "rollout.vllm.sleep_level"


def test_override_through_a_value_is_an_error():
    with pytest.raises(ConfigError) as info:
        config_from_dict({"train": {"lr": 0.1}}, ["train.lr.x=1"], world_size=1)
    assert info.value.key == "train.lr" and "not a section" in str(info.value)


@pytest.mark.parametrize("overrides,key", [
    (["algo.mini_batch_size=3"], "algo.mini_batch_size"),
    (["algo.beta=-0.1"], "algo.beta"),
    (["algo.clip_low=1.0"], "algo.clip_low"),
    (["algo.clip_high=-0.1"], "algo.clip_high"),
    (["algo.mu=0"], "algo.mu"),
    (["algo.advantage=gpro"], "algo.advantage"),
    (["algo.loss=ppo"], "algo.loss"),
    (["algo.kl_estimator=k4"], "algo.kl_estimator"),
    (["algo.is_cap=0.5"], "algo.is_cap"),
    (["algo.reward_error_rate_max=1.5"], "algo.reward_error_rate_max"),
    (["algo.gt_injection.enabled=true", "algo.gt_injection.per_group=4"], "algo.gt_injection.per_group"),
    (["algo.gt_injection.prob=2"], "algo.gt_injection.prob"),
    (["algo.dynamic_sampling.max_attempts=0"], "algo.dynamic_sampling.max_attempts"),
    (["rollout.num_generations=1"], "rollout.num_generations"),
    (["rollout.temperature=0"], "rollout.temperature"),
    (["rollout.top_p=0"], "rollout.top_p"),
    (["rollout.min_new_tokens=100"], "rollout.min_new_tokens"),
    (["rollout.vllm.max_model_len=100"], "rollout.vllm.max_model_len"),
    (["rollout.backend=vllm"], "rollout.vllm.server_url"),
    (["rollout.vllm.gpu_memory_utilization=1.0"], "rollout.vllm.gpu_memory_utilization"),
    (["train.backend=deepspeed"], "train.deepspeed"),
    (["train.backend=deepspeed", "train.deepspeed.zero_stage=4"], "train.deepspeed.zero_stage"),
    (["train.backend=deepspeed", "train.deepspeed.zero_stage=2", "train.deepspeed.offload_params=true"],
     "train.deepspeed.offload_params"),
    (["train.deepspeed.zero_stage=2"], "train.deepspeed"),
    (["train.micro_batch_size=3"], "train.micro_batch_size"),
    (["train.grad_accum=3"], "train.grad_accum"),
    (["train.warmup_steps=50"], "train.warmup_steps"),
    (["train.lr=0"], "train.lr"),
    (["train.bf16=true", "model.dtype=float16"], "train.bf16"),
    (["model.name_or_path=tiny:llava"], "model.name_or_path"),
    (["model.tiny.kv_heads=3"], "model.tiny.kv_heads"),
    (["model.tiny.hidden=60"], "model.tiny.hidden"),
    (["model.lora.dropout=1"], "model.lora.dropout"),
    (["model.freeze_language_model=true", "model.freeze_merger=true"], "model.freeze_language_model"),
    (["model.attn_implementation=flash_attention_2", "model.dtype=float32"], "model.attn_implementation"),
    (["checkpoint.keep_last=0"], "checkpoint.keep_last"),
    (["checkpoint.resume=/no/such/run"], "checkpoint.resume"),
    (["log.every=0"], "log.every"),
    (["eval.max_samples=0"], "eval.max_samples"),
])
def test_cross_field_checks_name_the_key(overrides, key):
    assert _err(overrides).key == key


def test_valid_combinations_pass():
    ok = [
        ["train.backend=deepspeed", "train.deepspeed={zero_stage: 3, offload_params: true, bf16: {enabled: true}}"],
        ["model.freeze_language_model=true", "model.freeze_merger=true", "model.lora.enabled=true"],
        ["algo.mini_batch_size=4", "train.micro_batch_size=2", "train.grad_accum=2"],
        ["algo.gt_injection.enabled=true", "algo.gt_injection.per_group=3", "algo.gt_injection.until_step=10"],
        ["checkpoint.resume=none"], ["checkpoint.resume=null"],
        ["rollout.backend=vllm", "rollout.vllm.server_url=http://127.0.0.1:8765"],  # reached at the first rollout
    ]
    for overrides in ok:
        config_from_dict({}, overrides, world_size=1)


def test_gspo_with_mu_1_is_fine_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = config_from_dict({}, ["algo.loss=gspo", "algo.mu=1", "algo.clip_low=3e-4", "algo.clip_high=4e-4"],
                               world_size=1)
    assert cfg.algo.clip_low == pytest.approx(3e-4)


def test_world_size_checks_and_env(monkeypatch):
    assert _err(["train.backend=single"], world_size=2).key == "train.backend"
    assert _err(["train.backend=ddp", "rollout.prompts_per_step=3"], world_size=2).key == "rollout.prompts_per_step"
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="train.backend"):
        load_config(None)
    assert load_config(None, ["train.backend=ddp"]).train.backend == "ddp"


def test_resolve_batching():
    cfg = config_from_dict({}, ["rollout.prompts_per_step=4", "algo.mini_batch_size=8", "train.micro_batch_size=2",
                                "train.backend=ddp"], world_size=2)
    b = resolve_batching(cfg, world_size=2)
    assert (b.samples_per_step, b.optimizer_steps_per_epoch, b.prompts_per_rank) == (16, 2, 2)
    assert (b.per_rank_mini_batch, b.micro_batch_size, b.grad_accum) == (4, 2, 2)
    single = resolve_batching(Config())  # micro 4 on a mini-batch of 8: 2 micro-batches
    assert (single.mini_batch_size, single.grad_accum) == (8, 2)
    small = resolve_batching(config_from_dict({}, ["rollout.prompts_per_step=1", "rollout.num_generations=2"],
                                              world_size=1))
    assert (small.micro_batch_size, small.grad_accum) == (2, 1)


def test_save_and_reload_round_trip(tmp_path):
    cfg = config_from_dict({}, ["train.lr=3e-5", "model.lora.enabled=true", "algo.loss=gspo", "train.backend=deepspeed",
                                "train.deepspeed.zero_stage=2", "checkpoint.keep_last=null"], world_size=1)
    path = save_config(cfg, tmp_path / "run" / "config.yaml")
    assert load_config(path, world_size=1) == cfg
    assert yaml.safe_load(to_yaml(cfg))["train"]["deepspeed"] == {"zero_stage": 2}
    assert list(yaml.safe_load(to_yaml(cfg))) == [f.name for f in dataclasses.fields(Config)]


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="top level"):
        load_config(bad)
    typo = tmp_path / "typo.yaml"
    typo.write_text("train:\n  stpes: 3\n")
    with pytest.raises(ConfigError, match=r"train.stpes.*did you mean 'train.steps'.*typo.yaml") as info:
        load_config(typo)
    assert isinstance(info.value, ValueError) and info.value.key == "train.stpes"
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_config(empty, world_size=1) == Config()


@dataclasses.dataclass
class _Part:
    name: str
    """Required: no default."""
    files: list[str] = dataclasses.field(default_factory=list)
    weight: float = 1.0
    source: str | None = dataclasses.field(default=None, metadata={"internal": True})

    @classmethod
    def coerce(cls, value, key):
        return {"name": value} if isinstance(value, str) else value

    def __post_init__(self):
        if self.weight < 0:
            raise ValueError(f"part.weight: must be >= 0, got {self.weight}")
        if self.name == "bad":
            raise ValueError("no key in this message")


def test_parser_features_the_mixture_config_uses():
    from vrft.config.typed import build

    assert build(_Part, "a", "part") == _Part("a")  # coerce: a shorthand becomes a mapping
    assert build(_Part, {"name": "a", "weight": "1e-1"}, "part").weight == pytest.approx(0.1)
    for data, key, text in [({"files": []}, "part.name", "required key is missing"),
                            ({"name": "a", "source": "x"}, "part.source", "unknown key"),
                            ({"name": "a", "wieght": 1}, "part.wieght", "did you mean 'part.weight'"),
                            ({"name": "a", "files": ["x", 3]}, "part.files[1]", "expected a string, got 3"),
                            ({"name": "a", "weight": -1}, "part.weight", "must be >= 0"),  # __post_init__
                            ({"name": "bad"}, "part", "part: no key in this message")]:
        with pytest.raises(ConfigError) as info:
            build(_Part, data, "part")
        assert info.value.key == key and text in str(info.value), str(info.value)
