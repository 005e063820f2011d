#!/usr/bin/env bash
# Side-by-side `npm run bench:sweep` (1,600 configs): this checkout against an older commit, in one run.
# Usage: scripts/bench-sweep-compare.sh [ref=8d3e3a3] [rounds=1] [extra sweep flags for both builds, e.g. "--jobs 1"]
# The old commit is checked out as a git worktree under /tmp (node_modules linked, dist built), then each
# round runs old and new back to back. CPU seconds (user + sys of the whole process tree, /usr/bin/time)
# are the number to compare on a shared machine; wall time is printed too. sweep.csv must be identical.
set -euo pipefail
ref=${1:-8d3e3a3}
rounds=${2:-1}
extra=${3:-}
. "$(dirname "$0")/old-checkout.sh"
old_checkout "$ref"
out=$(mktemp -d /tmp/shardsim-bench-sweep-XXXXXX)
run() { # name dir
  /usr/bin/time -o "$out/$1.time" -f "%U %S %e %M" npm --prefix "$2" run -s bench:sweep -- --out "$out/$1" $extra >"$out/$1.log" 2>&1
  read -r u s e m <"$out/$1.time"
  awk -v n="$1" -v u="$u" -v s="$s" -v e="$e" -v m="$m" 'BEGIN { c = u + s; printf "%-8s %9.2f %12.1f %9.1f %12.1f %10.0f\n", n, c, 1600 / c, e, 1600 / e, m / 1024 }'
}
printf "%-8s %9s %12s %9s %12s %10s\n" build "CPU (s)" "configs/CPU-s" "wall (s)" "configs/s" "RSS (MiB)"
for ((i = 0; i < rounds; i++)); do
  run "old" "$old"
  run "new" "$here"
done
if cmp -s "$out/old/sweep.csv" "$out/new/sweep.csv"; then echo "sweep.csv identical"; else echo "sweep.csv DIFFERS: diff $out/old/sweep.csv $out/new/sweep.csv"; exit 1; fi
rm -rf "$out"
