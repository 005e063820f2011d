#!/usr/bin/env bash
# Instructions of `simulate --out` of the 70B scenario (README "Speed"), this checkout against an older
# commit, alternating, under valgrind (cachegrind without cache simulation): the count does not drift with
# the host's speed as CPU seconds do (±0.5% run to run). Each figure is the second of two runs, the first
# having written V8's code cache for that build and these flags. ~1.5 min per figure.
# Usage: scripts/instructions-compare.sh [ref=9f25e78] [rounds=2] [scenario]
set -euo pipefail
ref=${1:-9f25e78}
rounds=${2:-2}
command -v valgrind >/dev/null || { echo "error: valgrind not found: install it (Debian: apt-get install valgrind)" >&2; exit 2; }
. "$(dirname "$0")/old-checkout.sh"
old_checkout "$ref"
scenario=${3:-$here/scenarios/llama-3.1-70b-tp2-fsdp4-ddp2-16xh100.yaml}
out=$(mktemp -d /tmp/shardsim-instructions-XXXXXX)
count() {
  local d=$1 n=''
  for i in 1 2; do
    rm -rf "$out/report"
    n=$( (cd "$d" && valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null --smc-check=all-non-file node bin/shardsim.js simulate "$scenario" --out "$out/report" 2>&1 >/dev/null) | sed -n 's/.*I *refs: *//p' | tr -d ',')
  done
  echo "$n"
}
printf "%-8s %16s\n" build instructions
for r in $(seq "$rounds"); do
  printf "%-8s %16s\n" "old" "$(count "$old")"
  printf "%-8s %16s\n" "new" "$(count "$here")"
done
rm -rf "$out"
