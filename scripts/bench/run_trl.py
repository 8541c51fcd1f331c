"""One TRL benchmark run in its own process: `python run_trl.py SPEC.json RESULT.json`.

Runs TRL's GRPOTrainer on the workload of `SPEC.json` (the same checkpoint, images, prompt text,
reward and GRPO settings as the vrft side) and writes the per-step wall and CPU times (a
TrainerCallback) and the peak RSS of this process to `RESULT.json`.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workload import QUESTION, Spec, letters_score, set_threads  # noqa: E402


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def dataset(spec: Spec):
    """The workload's rows as TRL wants them: chat `prompt` + PIL `image` / `images` columns."""
    from datasets import Dataset
    from PIL import Image

    rows = [json.loads(line) for line in open(os.path.join(spec.data_dir, "train.jsonl"))]
    out = []
    for row in rows:
        imgs = [Image.open(os.path.join(spec.data_dir, p)).convert("RGB") for p in row["images"]]
        content = [{"type": "image"} for _ in imgs] + [{"type": "text", "text": QUESTION}]
        item = {"prompt": [{"role": "user", "content": content}]}
        if len(imgs) == 1:
            item["image"] = imgs[0]
        else:
            item["images"] = imgs
        out.append(item)
    return Dataset.from_list(out)


def bench_letters(completions, **_kwargs) -> list[float]:
    """The same reward as vrft's `bench_letters`, on the completion text."""
    texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
    return [letters_score(t) for t in texts]


def suppress_ids(tokenizer) -> list[int]:
    """The tokens vrft suppresses when sampling (vision specials, ids past the tokenizer)."""
    from vrft.policy.tiny_tokenizer import VISION_SPECIAL_TOKENS

    ids = [tokenizer.convert_tokens_to_ids(t) for t in VISION_SPECIAL_TOKENS]
    return sorted({i for i in ids if i is not None and i != tokenizer.unk_token_id})


def main(spec_path: str, result_path: str) -> None:
    spec = Spec.from_json(open(spec_path).read())
    if spec.variant == "video":
        raise SystemExit("TRL's GRPOTrainer does not officially support video inputs")
    set_threads(spec.threads)
    import tempfile

    from transformers import AutoModelForImageTextToText, AutoProcessor, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    t_start = time.time()
    processor = AutoProcessor.from_pretrained(spec.checkpoint)
    model = AutoModelForImageTextToText.from_pretrained(spec.checkpoint, dtype="float32",
                                                        attn_implementation="sdpa")
    extra = [i for i in range(len(processor.tokenizer), model.config.get_text_config().vocab_size)]

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.wall, self.cpu = [], []

        def on_train_begin(self, args, state, control, **kw):
            self.t, self.c = time.perf_counter(), cpu_s()

        def on_step_end(self, args, state, control, **kw):
            t, c = time.perf_counter(), cpu_s()
            self.wall.append(t - self.t)
            self.cpu.append(c - self.c)
            self.t, self.c = t, c

    timer = StepTimer()
    with tempfile.TemporaryDirectory() as out_dir:
        args = GRPOConfig(
            output_dir=out_dir, use_cpu=True, bf16=False, fp16=False, use_vllm=False,
            per_device_train_batch_size=spec.prompts * spec.generations, num_generations=spec.generations,
            gradient_accumulation_steps=1, max_completion_length=spec.new_tokens, temperature=1.0,
            learning_rate=spec.lr, beta=0.0, num_iterations=1, loss_type="grpo", epsilon=spec.clip,
            max_steps=spec.steps, logging_steps=1, save_strategy="no", report_to="none",
            dataloader_num_workers=0, seed=spec.seed, gradient_checkpointing=spec.grad_ckpt,
            generation_kwargs={"min_new_tokens": spec.new_tokens,
                               "suppress_tokens": suppress_ids(processor.tokenizer) + extra},
            disable_tqdm=True,
        )
        trainer = GRPOTrainer(model=model, reward_funcs=bench_letters, args=args, train_dataset=dataset(spec),
                              processing_class=processor, callbacks=[timer])
        t_setup = time.time() - t_start
        trainer.train()
        logs = [h for h in trainer.state.log_history if "completions/mean_length" in h]
    result = {"side": "trl", "step_s": timer.wall, "cpu_s": timer.cpu, "setup_s": t_setup,
              "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
              "mean_completion_len": [h["completions/mean_length"] for h in logs],
              "prompt_tokens": prompt_tokens(processor, spec), "torch_threads": __import__("torch").get_num_threads()}
    with open(result_path, "w") as f:
        json.dump(result, f)


def prompt_tokens(processor, spec: Spec) -> int:
    """Prompt length (text + vision tokens) of the first row, as TRL's processor encodes it."""
    from PIL import Image

    row = json.loads(open(os.path.join(spec.data_dir, "train.jsonl")).readline())
    imgs = [Image.open(os.path.join(spec.data_dir, p)).convert("RGB") for p in row["images"]]
    msgs = [{"role": "user", "content": [{"type": "image"} for _ in imgs] + [{"type": "text", "text": QUESTION}]}]
    text = processor.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    return int(processor(text=[text], images=imgs, return_tensors="pt")["input_ids"].shape[1])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
