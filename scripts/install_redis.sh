#!/usr/bin/env bash
# Usage: scripts/install_redis.sh   (run as root when redis-server is missing)
#
# Provides redis-server 7 for the rate-limit example's tests (tests/examples/rate_limit_test.ts,
# tests/e2e/rate_limit.e2e.ts), which start their own server on a free port with a temporary
# directory and stop it. Installs Debian's redis-server package when no redis-server 7 or later
# is on PATH, without starting the system service (a policy-rc.d that denies it, for the install
# only). Does nothing when one is there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

die() { echo "install_redis: ERROR: $*" >&2; exit 1; }

# "Redis server v=7.0.15 sha=..." -> 7
major() { redis-server --version 2>/dev/null | sed -n 's/^Redis server v=\([0-9]*\)\..*/\1/p'; }

if [ "$(major)" -ge 7 ] 2>/dev/null; then
  echo "redis-server: $(redis-server --version)"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "redis-server 7 is not installed; run as root: bash scripts/install_redis.sh"

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  # Debian's way to keep maintainer scripts from starting services (invoke-rc.d, deb-systemd-invoke).
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
echo "== apt-get install redis-server (Debian's package; the service is not started)"
apt-get install -y -q --no-install-recommends redis-server ||
  { apt-get update -q && apt-get install -y -q --no-install-recommends redis-server; } ||
  die "apt-get install redis-server failed"

[ "$(major)" -ge 7 ] 2>/dev/null || die "redis-server is $(redis-server --version 2>&1), not 7 or later"
echo "redis-server: $(redis-server --version)"
