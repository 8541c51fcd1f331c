#!/usr/bin/env bash
# Does vrft work on this GPU? One prepared command: under 8 minutes on one H100 / H200.
#
#   bash scripts/gpu_check.sh                  # on the GPU machine (see below for the wheelhouse)
#   bash scripts/gpu_check.sh --cpu            # the same script on a tiny model on the CPU (CI runs this)
#
# A GPU machine often has no network. There, the script uses the python3 that already has torch
# (2.9 or newer with CUDA; tested: 2.11 and 2.14) and installs what vrft needs on top of it from a
# wheelhouse folder built beforehand on a machine with network:
#
#   bash scripts/build_wheelhouse.sh .whl      # here (Python 3.12, x86_64 by default; <= 64 MiB)
#   bash scripts/gpu_check.sh --wheelhouse .whl   # there
#
# With network and no wheelhouse it installs the project itself with pip (`pip install -e .[deepspeed]`).
# Writes runs/gpu_check/gpu_check.json (per backend: rollout tokens/s, update tokens/s, MFU, peak
# GPU memory, pass/fail with the error) and exits non-zero if any part failed.
set -uo pipefail
cd "$(dirname "$0")/.."
CPU=0; WHEELS=""; ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) CPU=1; ARGS+=("--cpu") ;;
    --wheelhouse) WHEELS="$2"; shift ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done
export FORCE_QWENVL_VIDEO_READER=decord HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
if [ "$CPU" = 1 ]; then
  # shellcheck disable=SC1091
  source scripts/setup_env.sh
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" DS_ACCELERATOR=cpu
  exec python scripts/gpu_check.py "${ARGS[@]}"
fi
PY="${PYTHON:-python3}"
if [ -n "$WHEELS" ]; then
  SITE="${VRFT_SITE:-/tmp/vrft-site}"
  # Everything but torch comes from the wheelhouse; nothing is fetched. DeepSpeed ships only as
  # source: it builds against the installed torch, without compiling its CUDA ops (JIT at use).
  "$PY" -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$SITE" "$WHEELS"/*.whl || exit 1
  if ls "$WHEELS"/deepspeed-*.tar.gz >/dev/null 2>&1; then
    PYTHONPATH="$SITE" DS_BUILD_OPS=0 "$PY" -m pip install -q --no-index --no-deps --no-build-isolation \
      --target "$SITE" "$WHEELS"/deepspeed-*.tar.gz || exit 1
  fi
  export PYTHONPATH="$PWD:$SITE"  # the working tree's vrft first
elif ! "$PY" -c "import vrft, deepspeed" >/dev/null 2>&1; then
  "$PY" -m pip install -q -e ".[deepspeed]" || exit 1
fi
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device visible'" || exit 1
exec "$PY" scripts/gpu_check.py "${ARGS[@]}"
