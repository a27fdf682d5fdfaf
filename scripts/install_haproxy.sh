#!/usr/bin/env bash
# Usage: scripts/install_haproxy.sh [2.6] [3.0] [3.2] [3.4]   (default: all four; run as root)
#
# Provisions real HAProxy versions for integration tests into .cache/haproxy/ (git-ignored) and
# writes wrappers .cache/haproxy/bin/haproxy-VERSION that behave like a plain `haproxy` command.
#   2.6      Debian 12's own package (apt-get install haproxy) - the only change to the system.
#   3.0/3.2/3.4  haproxy from trixie/sid/experimental, unpacked (never installed) together with
#            libraries from sid, because they need a newer glibc than Debian 12 has; they run
#            through the unpacked dynamic loader. Recipe: shared/haproxy/README.md.
# A version whose wrapper already answers `-v` with the right version is not downloaded again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=$repo/.cache/haproxy
bindir=$cache/bin

die() { echo "install_haproxy: ERROR: $*" >&2; exit 1; }

declare -A suite=([3.0]=trixie [3.2]=sid [3.4]=experimental)
# Libraries the 3.x binaries need, all taken from sid (one set serves all three versions).
libs=(libc6 libcrypt1 libjemalloc2 liblua5.4-0 libopentracing-c-wrapper0t64 libopentracing1
      libpcre2-8-0 libssl3t64 libstdc++6 libgcc-s1 zlib1g libzstd1)

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(2.6 3.0 3.2 3.4)
for v in "${versions[@]}"; do
  case $v in 2.6|3.0|3.2|3.4) ;; *) die "unknown version '$v' (choose from 2.6 3.0 3.2 3.4)";; esac
done
[ "$(id -u)" = 0 ] || die "must run as root (apt-get)"
case $(dpkg --print-architecture) in
  amd64) triplet=x86_64-linux-gnu loader=ld-linux-x86-64.so.2 ;;
  arm64) triplet=aarch64-linux-gnu loader=ld-linux-aarch64.so.1 ;;
  *) die "unsupported architecture $(dpkg --print-architecture)" ;;
esac

# Keep the repo's ignore list covering the cache (append only, never rewrite).
touch "$repo/.gitignore"
for line in .cache/ node_modules/; do
  grep -qxF "$line" "$repo/.gitignore" || echo "$line" >>"$repo/.gitignore"
done

mkdir -p "$bindir"
work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# First line of `WRAPPER -v` if it reports the wanted version, else fail.
check() {
  local out
  out=$("$bindir/haproxy-$1" -v 2>&1) || return 1
  out=${out%%$'\n'*}
  [[ $out == "HAProxy version $1."* ]] || return 1
  echo "$out"
}

provision_26() {
  if [ ! -x /usr/sbin/haproxy ]; then
    echo "== haproxy 2.6: apt-get install haproxy (Debian 12)"
    apt-get update -q && apt-get install -y -q haproxy
  fi
  printf '#!/bin/sh\n# Debian 12 system package (written by scripts/install_haproxy.sh)\nexec /usr/sbin/haproxy "$@"\n' \
    >"$bindir/haproxy-2.6"
  chmod +x "$bindir/haproxy-2.6"
}

# Private apt configuration: own sources list, lists and cache, so the system's apt state is
# never touched. State lives in the cache so later runs only refresh it.
apt_dir=$cache/apt
apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=-
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
          -o Acquire::Languages=none -o "APT::Architectures=$(dpkg --print-architecture)")
private_ready=
# An empty download folder that apt's unprivileged _apt user may write (avoids the sandbox warning).
dl_dir() {
  mkdir -p "$1" && chmod 755 "$work" "$1"
  chown _apt "$1" 2>/dev/null || true
}
private_update() {
  [ -z "$private_ready" ] || return 0
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  {
    echo "deb http://deb.debian.org/debian trixie main"
    echo "deb http://deb.debian.org/debian sid main"
    echo "deb http://deb.debian.org/debian experimental main"
  } >"$apt_dir/sources.list"
  echo "== apt-get update (private lists: trixie, sid, experimental)"
  apt-get "${apt_opts[@]}" update -q
  # The sid libraries are shared by all 3.x roots: download them once per run.
  dl_dir "$work/libs"
  echo "== apt-get download ${libs[*]/%//sid}"
  (cd "$work/libs" && apt-get "${apt_opts[@]}" download -q "${libs[@]/%//sid}")
  private_ready=1
}

provision_3x() {
  local v=$1 dir=$cache/$1 new=$cache/$1/root.new deb
  private_update
  dl_dir "$work/$v"
  echo "== haproxy $v: apt-get download haproxy/${suite[$v]}"
  (cd "$work/$v" && apt-get "${apt_opts[@]}" download -q "haproxy/${suite[$v]}")
  rm -rf "$new" && mkdir -p "$new"
  for deb in "$work/libs"/*.deb "$work/$v"/*.deb; do dpkg -x "$deb" "$new"; done
  # Every shared library must resolve inside the root; otherwise the loader would silently fall
  # back to Debian 12's copies in /etc/ld.so.cache.
  local lib=$new/usr/lib/$triplet
  local resolved
  resolved=$("$lib/$loader" --library-path "$lib:$new/lib/$triplet" --list "$new/usr/sbin/haproxy") \
    || die "haproxy $v: the loader cannot resolve its libraries (see above; add them to libs=)"
  if grep '=>' <<<"$resolved" | grep -v "=> $new/" >&2; then
    die "haproxy $v: the libraries above are missing from the sid set (add them to libs=)"
  fi
  rm -rf "$dir/root" && mv "$new" "$dir/root"
  # Paths relative to the wrapper, so the repo can move.
  cat >"$bindir/haproxy-$v" <<EOF
#!/bin/sh
# HAProxy $v from Debian ${suite[$v]}, unpacked with sid libraries (written by scripts/install_haproxy.sh)
root="\$(cd "\$(dirname "\$(readlink -f "\$0")")/../$v/root" && pwd)"
lib="\$root/usr/lib/$triplet"
exec "\$lib/$loader" --library-path "\$lib:\$root/lib/$triplet" "\$root/usr/sbin/haproxy" "\$@"
EOF
  chmod +x "$bindir/haproxy-$v"
}

for v in "${versions[@]}"; do
  if check "$v" >/dev/null; then
    echo "== haproxy $v: cached"
    continue
  fi
  if [ "$v" = 2.6 ]; then provision_26; else provision_3x "$v"; fi
done

echo
failed=
for v in "${versions[@]}"; do
  if line=$(check "$v"); then
    echo "haproxy-$v: $line"
  else
    echo "haproxy-$v: FAILED ($("$bindir/haproxy-$v" -v 2>&1 | head -n1 || true))" >&2
    failed=1
  fi
done
[ -z "$failed" ] || die "some versions could not be provisioned (see above)"
echo "wrappers: $bindir"
