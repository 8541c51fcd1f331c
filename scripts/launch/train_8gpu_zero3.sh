#!/usr/bin/env bash
# One node, 8 GPUs: DeepSpeed ZeRO-3, bf16, a real Qwen2.5-VL on the image + video mixture.
# Rollouts use the HF backend on the training model (rollout.backend=vllm is the place for a
# colocated vLLM engine; see docs/performance.md for its status).
#   bash scripts/launch/train_8gpu_zero3.sh [extra key=value overrides]
set -euo pipefail
MODEL="${MODEL:-Qwen/Qwen2.5-VL-3B-Instruct}"
torchrun --standalone --nproc_per_node=8 -m vrft train \
  data.config=datasets_cfg/image_video_mix.yaml \
  model.name_or_path="$MODEL" model.dtype=bfloat16 model.attn_implementation=flash_attention_2 \
  model.gradient_checkpointing=true model.freeze_vision_tower=true \
  train.backend=deepspeed train.deepspeed.zero_stage=3 train.bf16=true \
  rollout.prompts_per_step=64 rollout.num_generations=8 rollout.max_new_tokens=512 \
  algo.loss=dapo algo.clip_high=0.28 algo.beta=0.0 algo.mini_batch_size=128 train.micro_batch_size=4 \
  train.lr=1e-6 train.warmup_steps=10 train.steps=500 checkpoint.every=50 eval.every=50 \
  log.run_dir=runs/qwen25vl-3b-mix "$@"
