#!/usr/bin/env bash
# Set up everything on a fresh machine and run the whole test suite (slow end-to-end tests included).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
python -m pytest -q "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing loudly" >&2
  exit 1
fi
exit "$rc"
