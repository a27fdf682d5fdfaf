#!/usr/bin/env bash
# Usage: scripts/e2e.sh [node --test options...]
#
# End-to-end matrix: real HAProxy 2.6/3.0/3.2/3.4 × agents (examples/) on Deno, Bun and Node 24.
# Provisions missing HAProxy wrappers first (scripts/install_haproxy.sh, needs root) and
# redis-server (scripts/install_redis.sh), then runs
# tests/e2e/*.e2e.ts with Node 24's test runner. Results: stdout and .cache/e2e-results.md;
# full logs of every process: .cache/e2e-logs/<version>-<runtime>/.
# Env: SPOA_E2E_VERSIONS=3.2,3.4  SPOA_E2E_RUNTIMES=deno,node  SPOA_E2E_ALLOW_SKIP=1 (see
# tests/e2e/_env.ts).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if [ -z "${SPOA_E2E_HAPROXY_DIR:-}" ]; then
  IFS=, read -ra versions <<<"${SPOA_E2E_VERSIONS:-2.6,3.0,3.2,3.4}"
  missing=()
  for v in "${versions[@]}"; do
    [ -x ".cache/haproxy/bin/haproxy-$v" ] || missing+=("$v")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      bash scripts/install_haproxy.sh "${missing[@]}"
    else
      echo "e2e: HAProxy ${missing[*]} not provisioned; run 'sudo bash scripts/install_haproxy.sh'" >&2
    fi
  fi
fi

# redis-server for tests/e2e/rate_limit.e2e.ts (which starts its own, on a free port).
bash scripts/install_redis.sh || echo "e2e: no redis-server 7: the rate-limit cases will fail" >&2

exec node_modules/.bin/node --test --test-concurrency=1 "$@" tests/e2e/*.e2e.ts
