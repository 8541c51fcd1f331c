import pytest
import torch

from tests.conftest import FAMILIES


@pytest.mark.parametrize("family", FAMILIES)
def test_tiny_checkpoint_loads_offline_with_consistent_ids(tiny_model_dir, family):
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

    path = tiny_model_dir(family)
    processor = AutoProcessor.from_pretrained(path, local_files_only=True)
    model = AutoModelForImageTextToText.from_pretrained(path, local_files_only=True)
    cfg = AutoConfig.from_pretrained(path)
    tok = processor.tokenizer
    assert cfg.model_type == family
    assert cfg.image_token_id == tok.convert_tokens_to_ids("<|image_pad|>")
    assert cfg.video_token_id == tok.convert_tokens_to_ids("<|video_pad|>")
    assert cfg.vision_start_token_id == tok.convert_tokens_to_ids("<|vision_start|>")
    assert cfg.get_text_config().vocab_size == len(tok)
    for special in ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|vision_end|>", "<tool_call>", "<think>"):
        ids = tok.encode(special, add_special_tokens=False)
        assert len(ids) == 1, special
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    text_cfg = cfg.get_text_config()
    head_dim = text_cfg.hidden_size // text_cfg.num_attention_heads
    assert sum(text_cfg.rope_parameters["mrope_section"]) == head_dim // 2
    # A text-only forward works and is finite.
    ids = tok("hello world", return_tensors="pt")["input_ids"]
    assert torch.isfinite(model(input_ids=ids).logits).all()


def test_chat_template_renders_qwen_layout(tiny_model_dir):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_model_dir("qwen2_5_vl"))
    msgs = [{"role": "user", "content": [{"type": "image", "video": None}, {"type": "text", "text": "hi"}]}]
    text = processor.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    assert text == ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                    "<|vision_start|><|image_pad|><|vision_end|>hi<|im_end|>\n<|im_start|>assistant\n")


def test_unsupported_architecture_lists_supported():
    from transformers import LlamaConfig

    from vrft.policy.errors import UnsupportedModelError
    from vrft.policy.families import family_of

    with pytest.raises(UnsupportedModelError, match="qwen2_vl.*qwen2_5_vl.*qwen3_vl"):
        family_of(LlamaConfig())


def test_cli_tiny_model_sizes(tmp_path):
    from transformers import AutoConfig

    from vrft.cli import main

    with pytest.raises(SystemExit) as e:
        main(["tiny-model", str(tmp_path / "m"), "--family", "qwen3_vl", "--hidden", "128", "--layers", "3"])
    assert e.value.code == 0
    cfg = AutoConfig.from_pretrained(tmp_path / "m").get_text_config()
    assert (cfg.hidden_size, cfg.num_hidden_layers) == (128, 3)
