// Result table of the matrix: one row per HAProxy version × runtime, one column per case, plus
// the details (failover counts, timings). Printed to stdout and written to .cache/e2e-results.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./_env.ts";

export type Status = "pass" | "FAIL" | "n/a" | "skip" | "not run";

interface Cell {
  status: Status;
  note: string;
  /** Short request counts (failover, graceful shutdown), shown in their own table. */
  counts?: string;
}

const rows = new Map<string, Map<string, Cell>>();
const versions = new Map<string, string>();
let cases: string[] = [];
const started = Date.now();

export function declare(combo: string, caseNames: string[], versionInfo: string): void {
  cases = caseNames;
  versions.set(combo, versionInfo);
  rows.set(combo, new Map(caseNames.map((c) => [c, { status: "not run", note: "" }])));
}

export function record(
  combo: string,
  caseName: string,
  status: Status,
  note = "",
  counts?: string,
): void {
  rows.get(combo)?.set(caseName, { status, note, counts });
}

export function table(): string {
  const out: string[] = [];
  const elapsed = ((Date.now() - started) / 1000).toFixed(1);
  out.push(`# @spoa/agent end-to-end results (${new Date().toISOString()}, ${elapsed} s)`, "");
  const skipped = [...rows].filter(([, cells]) =>
    [...cells.values()].some((c) => c.status === "skip")
  );
  if (skipped.length) {
    out.push(`**WARNING: ${skipped.length} combination(s) SKIPPED (SPOA_E2E_ALLOW_SKIP=1)**`, "");
  }
  out.push(`| HAProxy × runtime | ${cases.join(" | ")} |`);
  out.push(`| --- | ${cases.map(() => "---").join(" | ")} |`);
  for (const [combo, cells] of rows) {
    out.push(`| ${combo} | ${cases.map((c) => cells.get(c)!.status).join(" | ")} |`);
  }
  const counted = cases.filter((c) => [...rows.values()].some((r) => r.get(c)?.counts));
  if (counted.length) {
    out.push(
      "",
      "Request counts (ok / failed with the SPOE error variable / in flight at the signal):",
    );
    out.push("", `| HAProxy × runtime | ${counted.join(" | ")} |`);
    out.push(`| --- | ${counted.map(() => "---").join(" | ")} |`);
    for (const [combo, cells] of rows) {
      out.push(`| ${combo} | ${counted.map((c) => cells.get(c)?.counts ?? "-").join(" | ")} |`);
    }
  }
  out.push("", "Details:", "");
  for (const [combo, cells] of rows) {
    out.push(`- **${combo}** (${versions.get(combo)})`);
    for (const c of cases) {
      const cell = cells.get(c)!;
      if (cell.note) out.push(`  - ${c}: ${cell.status}: ${cell.note}`);
    }
  }
  return out.join("\n") + "\n";
}

export function publish(): void {
  if (rows.size === 0) return;
  const text = table();
  process.stdout.write(`\n${text}\n`);
  mkdirSync(join(REPO, ".cache"), { recursive: true });
  writeFileSync(join(REPO, ".cache/e2e-results.md"), text);
}
