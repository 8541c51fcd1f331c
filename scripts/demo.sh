#!/usr/bin/env bash
# Set up everything on a fresh machine and run the embedded default: tiny model, synthetic data,
# GRPO with learned mixture weights on CPU, evaluation before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
vrft demo "$@"
