# Sourced by the side-by-side scripts: `old_checkout REF` leaves in $old a built detached worktree of REF under
# /tmp (node_modules linked from this checkout) and builds this checkout too; $here is this checkout's root.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
old_checkout() {
  old=/tmp/shardsim-bench-$1
  if [ ! -d "$old" ]; then
    git -C "$here" worktree add --detach "$old" "$1" >/dev/null
    ln -s "$here/node_modules" "$old/node_modules" 2>/dev/null || true
  fi
  (cd "$old" && npm run build >/dev/null 2>&1)
  (cd "$here" && npm run build >/dev/null 2>&1)
}
