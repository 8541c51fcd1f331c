#!/usr/bin/env bash
# Build the wheelhouse scripts/gpu_check.sh installs from on a GPU machine without network:
# vrft itself and every dependency such a machine (torch, numpy, pillow, ... already there) lacks.
#
#   bash scripts/build_wheelhouse.sh [DIR=.whl] [PYTHON_VERSION=3.12]
#
# Wheels are for CPython PYTHON_VERSION on manylinux x86_64. DeepSpeed publishes no wheels: its
# source archive comes along and is built there against the installed torch. The total must stay
# under 64 MiB (the device tool's carry limit); the script prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-.whl}"; PYV="${2:-3.12}"
mkdir -p "$DIR"
PIP="${PIP:-python3 -m pip}"
PLAT=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux2010_x86_64
      --platform manylinux1_x86_64)
# What vrft needs beyond a CUDA image with torch, torchvision, numpy, pillow, scipy, pyyaml, tqdm,
# tensorboard, matplotlib, peft, accelerate, tokenizers, safetensors, huggingface-hub, pytest and
# hypothesis (the GPU image's package list): a newer transformers, Qwen's vision utilities, the
# video reader, COCO evaluation, and DeepSpeed's pure-Python dependencies.
# (The versions CI tests with; imageio-ffmpeg and av are left out: only synthetic video writing and
# qwen-vl-utils' optional reader use them.)
$PIP download -q --no-deps --only-binary=:all: --python-version "$PYV" --implementation cp "${PLAT[@]}" -d "$DIR" \
  "transformers==5.24.0" "qwen-vl-utils==0.0.14" "decord==0.6.0" "pycocotools==2.0.11" \
  "hjson==3.1.0" "pydantic==2.14.4" "pydantic-core==2.50.5" "annotated-types==0.8.0" "typing-inspection==0.4.5"
$PIP download -q --no-deps --no-binary=:all: -d "$DIR" "deepspeed==0.19.8"
$PIP wheel -q --no-deps -w "$DIR" .
du -ch "$DIR"/* | tail -1
