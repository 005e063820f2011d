#!/usr/bin/env bash
# Runs `simulate --out --explain` on a few scenarios with this checkout and with an older commit and
# compares every output (scripts/same-output.mjs: bytes, PNGs by their pixels, JSON by its content; the
# timeline's SVG/PNG are drawn differently since the pixel-resolution whole-step panel, so they are
# skipped unless COMPARE_TIMELINE_IMAGES=1, for a ref that draws them the same way). Prints CPU seconds of
# both. Usage:
#   [COMPARE_TIMELINE_IMAGES=1] scripts/compare-report-outputs.sh [ref=8d3e3a3]
set -euo pipefail
ref=${1:-8d3e3a3}
. "$(dirname "$0")/old-checkout.sh"
old_checkout "$ref"
out=$(mktemp -d /tmp/shardsim-compare-XXXXXX)
cat >"$out/8b-straggler-jitter.yaml" <<'Y'
base_model: meta-llama/Llama-3.1-8B
sequence_len: 2048
micro_batch_size: 4
gradient_accumulation_steps: 2
bf16: true
flash_attention: true
gradient_checkpointing: true
simulation: {hardware: dgx-h100, jitter: 0.02, stragglers: [{rank: 3, compute_slowdown: 1.3}]}
Y
status=0
mkdir -p "$out/old" "$out/new"
for s in "$here/scenarios/llama-3.1-8b-ddp-8xh100.yaml" "$here/scenarios/llama-3.1-8b-fsdp2-16xh100.yaml" "$here/scenarios/llama-3.1-70b-tp2-fsdp4-ddp2-16xh100.yaml" "$out/8b-straggler-jitter.yaml"; do
  n=$(basename "$s" .yaml)
  for b in old new; do
    d=$here; [ $b = old ] && d=$old
    /usr/bin/time -o "$out/$b-$n.time" -f "%U %S" node "$d/bin/shardsim.js" simulate "$s" --out "$out/$b/$n" --explain 2>/dev/null | grep -v '^report: ' >"$out/$b/$n.stdout" || true
  done
  same=yes
  for f in "$out/old/$n"/* "$out/old/$n.stdout"; do
    g=${f/#$out\/old/$out\/new}
    case "$f" in */timeline.svg | */timeline.png) [ "${COMPARE_TIMELINE_IMAGES:-0}" = 1 ] || continue ;; esac
    node "$here/scripts/same-output.mjs" "$f" "$g" || { same="NO: $(basename "$f") differs"; status=1; }
  done
  printf "%-44s old %s s CPU, new %s s CPU; outputs identical: %s\n" "$n" "$(awk '{print $1 + $2}' "$out/old-$n.time")" "$(awk '{print $1 + $2}' "$out/new-$n.time")" "$same"
done
[ $status = 0 ] && rm -rf "$out"
exit $status
