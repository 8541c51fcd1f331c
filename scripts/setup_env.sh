#!/usr/bin/env bash
# Create (or reuse) the project virtualenv and install vrft with its dev extras.
# Usage: source scripts/setup_env.sh   (sets up $VRFT_VENV, default .venv, and activates it)
set -euo pipefail
VRFT_VENV="${VRFT_VENV:-.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VRFT_VENV/bin/python" ]; then
  "$PY" -m venv "$VRFT_VENV"
fi
# shellcheck disable=SC1091
source "$VRFT_VENV/bin/activate"
if ! python -c "import vrft, torch, torchvision, transformers, trl" >/dev/null 2>&1; then
  python -m pip install -q --upgrade pip
  # torch and torchvision first, pinned together: the Qwen processors need a torchvision that
  # matches torch (2.14.1 / 0.29.1 are the tested pair).
  python -m pip install -q "torch==2.14.1" "torchvision==0.29.1"
  python -m pip install -q -e ".[dev]"
fi
export FORCE_QWENVL_VIDEO_READER=decord
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-0}"
set +euo pipefail
