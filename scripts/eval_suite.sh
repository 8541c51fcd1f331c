#!/usr/bin/env bash
# Evaluate one model on every benchmark whose data is configured, data-parallel over NPROC processes.
#
#   NPROC=4 REFCOCO_JSON=data/refcoco_val.json COCO_ROOT=data/coco \
#     scripts/eval_suite.sh Qwen/Qwen2.5-VL-3B-Instruct runs/eval/base
#   scripts/eval_suite.sh runs/grpo/final runs/eval/rft
#   for b in runs/eval/base/*; do vrft eval --compare "$b" "runs/eval/rft/$(basename "$b")"; done
#
# Data (set the ones you have; the others are skipped):
#   REFCOCO_JSON + COCO_ROOT (train2014 images)    refcoco-style json, e.g. refcoco_val.json
#   COCO_VAL_JSON + COCO_VAL_IMAGES                instances_val2017.json and val2017/
#   CHARTQA_JSON (+ CHARTQA_ROOT)                  test/test_human.json (images in test/png)
#   SCREENSPOT_JSON + SCREENSPOT_IMAGES            screenspot_{mobile,desktop,web}.json, images
#   SCREENSPOT_PRO_JSON + SCREENSPOT_PRO_IMAGES    one application's json, images
#   CHARADES_TXT + CHARADES_VIDEOS (+ CHARADES_DURATIONS json)
# Extra arguments after OUT go to every `vrft eval` (e.g. --max-samples 200 --max-new-tokens 512).
set -euo pipefail
MODEL=${1:?usage: eval_suite.sh MODEL OUT [vrft eval options...]}
OUT=${2:?usage: eval_suite.sh MODEL OUT [vrft eval options...]}
shift 2
NPROC=${NPROC:-1}
if [ "$NPROC" -gt 1 ]; then
  LAUNCH=(torchrun --nproc_per_node="$NPROC" -m vrft)
else
  LAUNCH=(vrft)
fi

run() {  # run NAME BENCHMARK DATA MEDIA_ROOT [options...]
  local name=$1 bench=$2 data=$3 media=$4
  shift 4
  echo "== $name ($bench) -> $OUT/$name"
  "${LAUNCH[@]}" eval --model "$MODEL" --benchmark "$bench" --data "$data" --media-root "$media" \
    --out "$OUT/$name" "$@"
}

[ -n "${REFCOCO_JSON:-}" ] && run refcoco refcoco "$REFCOCO_JSON" "${COCO_ROOT:?set COCO_ROOT}" "$@"
[ -n "${COCO_VAL_JSON:-}" ] && run coco_det coco_det "$COCO_VAL_JSON" "${COCO_VAL_IMAGES:?set COCO_VAL_IMAGES}" "$@"
[ -n "${CHARTQA_JSON:-}" ] && run chartqa chartqa "$CHARTQA_JSON" "${CHARTQA_ROOT:-$(dirname "$CHARTQA_JSON")}" "$@"
[ -n "${SCREENSPOT_JSON:-}" ] && run screenspot screenspot "$SCREENSPOT_JSON" "${SCREENSPOT_IMAGES:?set SCREENSPOT_IMAGES}" "$@"
[ -n "${SCREENSPOT_PRO_JSON:-}" ] && run screenspot_pro screenspot_pro "$SCREENSPOT_PRO_JSON" \
  "${SCREENSPOT_PRO_IMAGES:?set SCREENSPOT_PRO_IMAGES}" "$@"
if [ -n "${CHARADES_TXT:-}" ]; then
  opts=()
  [ -n "${CHARADES_DURATIONS:-}" ] && opts+=(--loader-opt "durations=$CHARADES_DURATIONS")
  run charades_sta charades_sta "$CHARADES_TXT" "${CHARADES_VIDEOS:?set CHARADES_VIDEOS}" "${opts[@]}" "$@"
fi
echo "done: metrics in $OUT/*/metrics.md"
