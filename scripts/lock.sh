# shellcheck shell=bash
# hold_lock FD FILE WHO: open FILE on descriptor FD and hold an exclusive flock on it for the rest
# of the calling script: one run at a time. A second run says who it waits for, then waits.
# The descriptors are fixed (7: the real-engine run.lock, 8: the e2e lock) so that
# scripts/cluster/cluster.sh can close them before it starts a daemon.
hold_lock() {
  local fd="$1" file="$2" who="$3"
  mkdir -p "$(dirname "$file")"
  eval "exec $fd>\"\$file\""
  flock -n "$fd" || {
    echo "$who: another run holds $file; waiting for it" >&2
    flock "$fd"
  }
}
