#!/usr/bin/env bash
# Usage: bash scripts/hardening.sh [--fuzz-seconds 30] [--soak-minutes 1] [--runtimes deno,bun,node]
#
# The bounded runs against a listening agent, on each runtime in turn (Linux: taskset, /proc):
#   fuzz  scripts/fuzz.ts: hostile connections in random chunkings beside well-behaved ones; the
#         agent must survive, answer each hostile stream as the engine does in memory, get every
#         ACK right, and return to its level of file descriptors and live heap;
#   soak  scripts/soak.ts: the load generator for N minutes, RSS, heap and open fds sampled every
#         second, within the bounds the script states.
# A failed fuzz run prints its seed; rerun it with `node scripts/fuzz.ts --runtime R --seed S`.
# Longer runs by hand: --fuzz-seconds 600 --soak-minutes 10 (see SECURITY.md).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1
export PATH="$repo/node_modules/.bin:$PATH"

fuzz_seconds=30
soak_minutes=1
runtimes=deno,bun,node
while [ $# -gt 0 ]; do
  case $1 in
    --fuzz-seconds) fuzz_seconds=${2:?}; shift 2 ;;
    --soak-minutes) soak_minutes=${2:?}; shift 2 ;;
    --runtimes) runtimes=${2:?}; shift 2 ;;
    *)
      echo "usage: bash scripts/hardening.sh [--fuzz-seconds S] [--soak-minutes M] [--runtimes LIST]" >&2
      exit 2
      ;;
  esac
done

passed=0
failed=0
results=()
run() { # run NAME COMMAND...
  local name=$1
  shift
  printf '\n========== %s ==========\n' "$name"
  if "$@"; then
    passed=$((passed + 1))
    results+=("PASS  $name")
  else
    failed=$((failed + 1))
    results+=("FAIL  $name")
  fi
}

IFS=, read -r -a list <<<"$runtimes"
for runtime in "${list[@]}"; do
  run "fuzz $runtime (${fuzz_seconds} s)" node scripts/fuzz.ts --runtime "$runtime" --duration "$fuzz_seconds"
  run "soak $runtime (${soak_minutes} min)" node scripts/soak.ts --runtime "$runtime" --minutes "$soak_minutes"
done

printf '\n========== hardening summary ==========\n'
printf '%s\n' "${results[@]}"
echo "hardening: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
