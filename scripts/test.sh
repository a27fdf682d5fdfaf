#!/usr/bin/env bash
# Usage: bash scripts/test.sh [unit|e2e|hardening|all]   (default: all)
#
# The project's test runner.
#   unit  every tests/**/*_test.ts outside tests/e2e/, on Deno, Bun and Node 24 in turn (the same
#         files: they use only node:test and node:assert/strict). Fails if any runtime fails, or
#         reports a skipped/ignored/todo test.
#   e2e   the end-to-end matrix against real HAProxy (tests/e2e/*.e2e.ts): through scripts/e2e.sh
#         when it exists, else scripts/install_haproxy.sh then node --test. Fails if the suite has
#         no *.e2e.ts file yet.
#   hardening  scripts/hardening.sh: the bounded fuzz and soak runs against a listening agent on
#         Deno, Bun and Node (about 1.5 minutes per runtime).
#   all   unit, then e2e (a missing e2e suite is reported loudly but does not fail `all`), then
#         hardening.
# Dev tools come from node_modules/.bin (npm devDependencies); they are installed with `npm ci`
# when missing or older than package-lock.json.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1
export PATH="$repo/node_modules/.bin:$PATH"

mode=${1:-all}
case $mode in
  unit | e2e | hardening | all) ;;
  *)
    echo "usage: bash scripts/test.sh [unit|e2e|hardening|all]" >&2
    exit 2
    ;;
esac

banner() { printf '\n========== %s ==========\n' "$*"; }
strip_ansi() { sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g'; }
sum_first() { awk '{ sum += $1 } END { print sum + 0 }'; }

ensure_tools() {
  local reason=""
  for tool in deno bun node; do
    [ -x "node_modules/.bin/$tool" ] || reason="node_modules/.bin/$tool is missing"
  done
  [ -f node_modules/@types/node/package.json ] || reason=${reason:-"@types/node is missing"}
  if [ -z "$reason" ] && [ -f package-lock.json ] &&
    [ package-lock.json -nt node_modules/.package-lock.json ]; then
    reason="package-lock.json is newer than node_modules"
  fi
  [ -n "$reason" ] || return 0
  banner "installing dev tools ($reason)"
  # npm ci can refuse the lock file that npm install itself writes for these packages ("Missing:
  # @deno/darwin-arm64@ from lock file": their other-platform optional packages are not locked),
  # so fall back to npm install, which leaves that lock file unchanged.
  local log
  log=$(mktemp)
  if [ -f package-lock.json ] && npm ci --no-audit --no-fund >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    return 0
  fi
  grep -m 8 'npm error' "$log" >&2
  rm -f "$log"
  echo "test.sh: npm ci failed or no package-lock.json; running npm install" >&2
  npm install --no-audit --no-fund
}

print_versions() {
  banner "runtimes"
  echo "deno: $(deno --version | head -n 1)"
  echo "bun:  $(bun --version)"
  echo "node: $(node --version)"
}

# Results of the unit runs, one line each, printed at the end.
summary=()
status=0

record() { # record RUNTIME EXIT_CODE SUMMARY_TEXT SKIPPED_COUNT
  local runtime=$1 code=$2 text=$3 skipped=$4 verdict=PASS
  if [ "$code" -ne 0 ]; then
    verdict=FAIL
  elif [ "${skipped:-0}" != 0 ]; then
    verdict="FAIL (skipped tests are not allowed)"
  fi
  [ "$verdict" = PASS ] || status=1
  summary+=("$(printf '%-5s %-6s %s' "$runtime" "$verdict" "$text")")
}

run_unit() {
  local files
  mapfile -t files < <(find tests -name '*_test.ts' -not -path 'tests/e2e/*' | LC_ALL=C sort)
  if [ ${#files[@]} -eq 0 ]; then
    echo "test.sh: no unit test files (tests/**/*_test.ts) found" >&2
    status=1
    return
  fi
  banner "unit test files (${#files[@]})"
  printf '  %s\n' "${files[@]}"
  local log code text skipped
  log=$(mktemp)

  banner "deno test"
  deno test -A --ignore=tests/e2e "${files[@]}" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  text=$(strip_ansi <"$log" | grep -E '^(ok|FAILED) \|' | tail -n 1)
  [ -n "$text" ] || text=$(strip_ansi <"$log" | grep -E '^error: ' | tail -n 1)
  skipped=$(strip_ansi <"$log" | grep -oE '[0-9]+ ignored' | tail -n 1 | grep -oE '[0-9]+')
  record deno "$code" "${text:-no summary line}" "${skipped:-0}"

  banner "deno test --doc (the examples in README.md and the TSDoc)"
  deno test -A --doc README.md mod.ts src/ 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  text=$(strip_ansi <"$log" | grep -E '^(ok|FAILED) \|' | tail -n 1)
  record docs "$code" "${text:-no summary line}" 0

  banner "bun test"
  # Paths start with ./ so that bun takes them as files, not as name filters. bun test fails a test
  # after 5 s by default; the attack tests (tests/hostile) take longer under load.
  bun test --timeout 60000 "${files[@]/#/./}" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  text=$(strip_ansi <"$log" | grep -E '^ *[0-9]+ (pass|fail|skip|todo)$' | xargs echo)
  skipped=$(strip_ansi <"$log" | grep -E '^ *[0-9]+ (skip|todo)$' | sum_first)
  record bun "$code" "${text:-no summary line}" "${skipped:-0}"

  banner "node --test"
  node --test "${files[@]}" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  text=$(strip_ansi <"$log" | grep -E '^ℹ (tests|pass|fail|cancelled|skipped|todo) ' | sed 's/^ℹ //' |
    paste -sd, | sed 's/,/, /g')
  skipped=$(strip_ansi <"$log" | grep -E '^ℹ (skipped|todo) ' | awk '{ print $3 }' | sum_first)
  record node "$code" "${text:-no summary line}" "${skipped:-0}"

  rm -f "$log"
}

run_e2e() {
  local files
  shopt -s nullglob
  files=(tests/e2e/*.e2e.ts)
  shopt -u nullglob
  if [ ${#files[@]} -eq 0 ]; then
    if [ "$mode" = e2e ]; then
      echo "test.sh: no end-to-end tests (tests/e2e/*.e2e.ts) yet" >&2
      summary+=("e2e   FAIL   no tests/e2e/*.e2e.ts")
      status=1
    else
      banner "NOTE: NO END-TO-END TESTS YET (tests/e2e/*.e2e.ts) - e2e NOT RUN"
      summary+=("e2e   NOTE   not run: no tests/e2e/*.e2e.ts yet")
    fi
    return
  fi
  banner "end-to-end tests (${files[*]})"
  local code
  if [ -f scripts/e2e.sh ]; then
    bash scripts/e2e.sh
    code=$?
  else
    bash scripts/install_haproxy.sh && node --test --test-concurrency=1 "${files[@]}"
    code=$?
  fi
  if [ "$code" -eq 0 ]; then
    summary+=("e2e   PASS")
  else
    summary+=("e2e   FAIL   exit code $code")
    status=1
  fi
}

run_hardening() {
  banner "fuzz and soak against a listening agent (scripts/hardening.sh)"
  if bash scripts/hardening.sh; then
    summary+=("hard  PASS   fuzz and soak on deno, bun, node")
  else
    summary+=("hard  FAIL   fuzz or soak (see above; a fuzz failure prints its seed)")
    status=1
  fi
}

ensure_tools || {
  echo "test.sh: could not install the dev tools (npm ci)" >&2
  exit 1
}
print_versions
# redis-server for the rate-limit example's tests (unit and e2e); they start their own servers.
if [ "$mode" != hardening ]; then
  bash scripts/install_redis.sh || echo "test.sh: no redis-server 7: the rate-limit tests will fail" >&2
fi
case $mode in
  unit) run_unit ;;
  e2e) run_e2e ;;
  hardening) run_hardening ;;
  all)
    run_unit
    run_e2e
    run_hardening
    ;;
esac

banner "summary ($mode)"
printf '%s\n' "${summary[@]}"
if [ "$status" -eq 0 ]; then echo "ALL PASSED"; else echo "FAILED"; fi
exit "$status"
