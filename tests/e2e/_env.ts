// Environment of the end-to-end suite: repository paths, the HAProxy × runtime matrix selected
// through env vars, and the check that every selected binary really exists and runs.
//
//   SPOA_E2E_VERSIONS=2.6,3.0,3.2,3.4   HAProxy versions (default: all four)
//   SPOA_E2E_RUNTIMES=deno,bun,node     agent runtimes (default: all three)
//   SPOA_E2E_ALLOW_SKIP=1               a missing binary skips its combination (loud warning)
//                                       instead of failing it
//   SPOA_E2E_HAPROXY_DIR=DIR            wrappers haproxy-X.Y in DIR (default .cache/haproxy/bin,
//                                       written by scripts/install_haproxy.sh)
//   SPOA_E2E_EXAMPLES_DIR=DIR           run the examples (echo.ts, ...) from DIR, not examples/
//   SPOA_E2E_KEEP=1                     keep the rendered configs (temp dirs) after the run
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const ALL_VERSIONS = ["2.6", "3.0", "3.2", "3.4"] as const;
export const ALL_RUNTIMES = ["deno", "bun", "node"] as const;
export type Version = (typeof ALL_VERSIONS)[number];
export type Runtime = (typeof ALL_RUNTIMES)[number];

/** 2.6 and 3.0 run the applet-based SPOE ("legacy"); 3.1+ the multiplexer ("mux"). */
export function isLegacy(v: Version): boolean {
  return v === "2.6" || v === "3.0";
}

function pick<T extends string>(name: string, all: readonly T[]): T[] {
  const raw = process.env[name]?.trim();
  if (!raw) return [...all];
  const wanted = raw.split(",").map((s) => s.trim()).filter(Boolean);
  for (const w of wanted) {
    if (!all.includes(w as T)) {
      throw new Error(`${name}: unknown value "${w}" (use ${all.join(",")})`);
    }
  }
  return all.filter((a) => wanted.includes(a));
}

export const VERSIONS: Version[] = pick("SPOA_E2E_VERSIONS", ALL_VERSIONS);
export const RUNTIMES: Runtime[] = pick("SPOA_E2E_RUNTIMES", ALL_RUNTIMES);
export const ALLOW_SKIP = process.env.SPOA_E2E_ALLOW_SKIP === "1";
export const EXAMPLES_DIR = resolve(process.env.SPOA_E2E_EXAMPLES_DIR || join(REPO, "examples"));

const HAPROXY_DIR = resolve(process.env.SPOA_E2E_HAPROXY_DIR || join(REPO, ".cache/haproxy/bin"));

export function haproxyBin(v: Version): string {
  return join(HAPROXY_DIR, `haproxy-${v}`);
}

export function runtimeBin(r: Runtime): string {
  return join(REPO, "node_modules/.bin", r);
}

export interface Probe {
  ok: boolean;
  /** First line of the version output, or why the binary is unusable. */
  info: string;
}

const probes = new Map<string, Probe>();

function probe(key: string, bin: string, args: string[], expect: RegExp): Probe {
  const cached = probes.get(key);
  if (cached) return cached;
  let result: Probe;
  if (!existsSync(bin)) {
    result = { ok: false, info: `${bin} not found` };
  } else {
    try {
      const out = execFileSync(bin, args, { encoding: "utf8", timeout: 20_000, stdio: "pipe" });
      const line = out.split("\n")[0].trim();
      result = expect.test(line)
        ? { ok: true, info: line }
        : { ok: false, info: `${bin}: unexpected version "${line}"` };
    } catch (e) {
      result = { ok: false, info: `${bin} does not run: ${(e as Error).message.split("\n")[0]}` };
    }
  }
  probes.set(key, result);
  return result;
}

export function probeHaproxy(v: Version): Probe {
  const re = new RegExp(`^HAProxy version ${v.replace(".", "\\.")}\\.`);
  return probe(`haproxy-${v}`, haproxyBin(v), ["-v"], re);
}

export function probeRuntime(r: Runtime): Probe {
  const re = r === "deno" ? /^deno 2\./ : r === "bun" ? /^1\./ : /^v(2[4-9]|[3-9]\d)\./;
  return probe(`rt-${r}`, runtimeBin(r), ["--version"], re);
}

/** Why a combination cannot run (undefined when both binaries are usable). */
export function missingFor(v: Version, r: Runtime): string | undefined {
  const problems = [probeHaproxy(v), probeRuntime(r)].filter((p) => !p.ok).map((p) => p.info);
  return problems.length ? problems.join("; ") : undefined;
}
