#!/usr/bin/env bash
# Usage: bash scripts/mutate.sh [codec|engine|all] [stryker options...]   (default: all)
#
# Mutation testing (StrykerJS, stryker.config.mjs) of src/codec + src/reader ("codec") and
# src/engine ("engine"), run by hand: too slow for every CI run (about 15 and 30 minutes on 2
# cores the first time; later runs are incremental and re-test only what changed). Add --force to
# re-test every mutant. Reports: .cache/stryker/<part>.html and .json; the summary printed at the
# end counts killed + timed out as detected (a mutant that hangs the tests is caught).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1
export PATH="$repo/node_modules/.bin:$PATH"

mode=${1:-all}
case $mode in
  codec | engine) parts=("$mode") ;;
  all) parts=(codec engine) ;;
  *)
    echo "usage: bash scripts/mutate.sh [codec|engine|all] [stryker options...]" >&2
    exit 2
    ;;
esac
shift $(($# > 0 ? 1 : 0))

if [ ! -x node_modules/.bin/stryker ]; then
  npm install --no-audit --no-fund || exit 1
fi

status=0
for part in "${parts[@]}"; do
  printf '\n========== mutation testing: %s ==========\n' "$part"
  started=$(date +%s)
  SPOA_MUTATE=$part stryker run "$@" || status=1
  echo "$part: $(($(date +%s) - started)) s"
done

# The figures of every part run so far, from the JSON reports.
node --input-type=module - "${parts[@]}" <<'JS'
import { existsSync, readFileSync } from "node:fs";
const parts = process.argv.slice(2);
const total = {};
const add = (into, status) => into[status] = (into[status] ?? 0) + 1;
const line = (name, c) => {
  const detected = (c.Killed ?? 0) + (c.Timeout ?? 0);
  const undetected = (c.Survived ?? 0) + (c.NoCoverage ?? 0);
  const score = (100 * detected / (detected + undetected)).toFixed(2);
  return `${name.padEnd(8)} ${score}% detected: ${c.Killed ?? 0} killed, ${c.Timeout ?? 0} timed out, ` +
    `${c.Survived ?? 0} survived, ${c.NoCoverage ?? 0} not covered` +
    (c.RuntimeError || c.CompileError ? `, ${(c.RuntimeError ?? 0) + (c.CompileError ?? 0)} errors` : "");
};
console.log("\n========== summary ==========");
for (const part of parts) {
  const file = `.cache/stryker/${part}.json`;
  if (!existsSync(file)) continue;
  const counts = {};
  for (const { mutants } of Object.values(JSON.parse(readFileSync(file, "utf8")).files)) {
    for (const mutant of mutants) {
      add(counts, mutant.status);
      add(total, mutant.status);
    }
  }
  console.log(line(part, counts));
}
if (parts.length > 1) console.log(line("all", total));
JS
exit $status
