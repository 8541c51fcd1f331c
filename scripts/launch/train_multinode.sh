#!/usr/bin/env bash
# Several nodes: the same SPMD program under multi-node torchrun (no home-made RPC layer).
# Run on every node with the same MASTER_ADDR / MASTER_PORT and NNODES, and NODE_RANK = 0..NNODES-1:
#   MASTER_ADDR=node0 NNODES=2 NODE_RANK=0 bash scripts/launch/train_multinode.sh
set -euo pipefail
: "${MASTER_ADDR:?set MASTER_ADDR to the first node's address}"
MASTER_PORT="${MASTER_PORT:-29500}"
NNODES="${NNODES:-2}"
NODE_RANK="${NODE_RANK:?set NODE_RANK}"
GPUS="${GPUS_PER_NODE:-8}"
torchrun --nnodes="$NNODES" --node_rank="$NODE_RANK" --nproc_per_node="$GPUS" \
  --rdzv_backend=c10d --rdzv_endpoint="$MASTER_ADDR:$MASTER_PORT" -m vrft train \
  data.config=datasets_cfg/image_video_mix.yaml \
  model.name_or_path="${MODEL:-Qwen/Qwen2.5-VL-7B-Instruct}" model.dtype=bfloat16 \
  model.gradient_checkpointing=true train.backend=fsdp2 train.bf16=true \
  rollout.prompts_per_step=128 rollout.num_generations=8 rollout.max_new_tokens=512 \
  algo.mini_batch_size=256 train.micro_batch_size=4 train.lr=1e-6 train.steps=500 \
  checkpoint.every=50 log.run_dir=runs/multinode "$@"
