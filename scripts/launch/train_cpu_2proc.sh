#!/usr/bin/env bash
# Two processes on a CPU machine (gloo): the demo mixture with DDP, FSDP2 or DeepSpeed ZeRO-2.
#   bash scripts/launch/train_cpu_2proc.sh ddp|fsdp2|deepspeed
set -euo pipefail
BACKEND="${1:-ddp}"; shift || true
export OMP_NUM_THREADS=1 DS_ACCELERATOR=cpu TORCH_EXTENSIONS_DIR="${TORCH_EXTENSIONS_DIR:-$HOME/.cache/vrft/torch_extensions}"
EXTRA=()
[ "$BACKEND" = deepspeed ] && EXTRA+=(train.deepspeed.zero_stage=2)
torchrun --standalone --nproc_per_node=2 -m vrft train vrft/configs/demo.yaml \
  train.backend="$BACKEND" "${EXTRA[@]}" train.steps=20 log.run_dir="runs/cpu-$BACKEND" "$@"
