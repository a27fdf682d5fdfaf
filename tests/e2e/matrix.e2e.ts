// End-to-end matrix: every selected HAProxy version × agent runtime runs every case of
// _cases.ts against real processes. Run: node_modules/.bin/node --test tests/e2e/*.e2e.ts
// (see _env.ts for SPOA_E2E_VERSIONS / SPOA_E2E_RUNTIMES / SPOA_E2E_ALLOW_SKIP).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CASES } from "./_cases.ts";
import { Combo } from "./_combo.ts";
import {
  ALLOW_SKIP,
  EXAMPLES_DIR,
  missingFor,
  probeHaproxy,
  probeRuntime,
  RUNTIMES,
  VERSIONS,
} from "./_env.ts";
import { declare, publish, record } from "./_results.ts";

const EXAMPLES = ["ip_reputation", "echo"].map((e) => join(EXAMPLES_DIR, `${e}.ts`));

function banner(text: string): void {
  const line = "!".repeat(78);
  process.stderr.write(`\n${line}\n!! ${text}\n${line}\n\n`);
}

after(publish);

for (const version of VERSIONS) {
  for (const runtime of RUNTIMES) {
    const key = `${version} × ${runtime}`;
    const missing = missingFor(version, runtime);
    const rt = probeRuntime(runtime).info;
    const info = missing ??
      `${probeHaproxy(version).info.split(" - ")[0]}; ${
        rt.startsWith(runtime) ? "" : runtime
      } ${rt}`;
    declare(key, CASES.map((c) => c.name), info);

    if (missing && ALLOW_SKIP) {
      banner(`SKIPPING HAProxy ${version} × ${runtime}: ${missing} (SPOA_E2E_ALLOW_SKIP=1)`);
      for (const c of CASES) record(key, c.name, "skip", missing);
      describe(`HAProxy ${key}`, { skip: missing }, () => {});
      continue;
    }

    describe(`HAProxy ${key}`, () => {
      let combo: Combo | undefined;

      before(async () => {
        if (missing) {
          throw new Error(`missing binary: ${missing} (set SPOA_E2E_ALLOW_SKIP=1 to skip)`);
        }
        const absent = EXAMPLES.filter((f) => !existsSync(f));
        if (absent.length) throw new Error(`missing agent examples: ${absent.join(", ")}`);
        combo = await Combo.create(version, runtime);
        try {
          await combo.start();
        } catch (e) {
          console.log(`\n### HAProxy ${key}: setup failed\n${combo.diagnostics()}`);
          throw e;
        }
      }, { timeout: 90_000 });

      after(async () => {
        await combo?.stop();
      }, { timeout: 60_000 });

      for (const c of CASES) {
        if (!c.appliesTo(version)) {
          record(key, c.name, "n/a");
          continue;
        }
        test(c.name, { timeout: c.timeoutMs }, async () => {
          const t0 = Date.now();
          if (!combo) throw new Error("setup failed");
          try {
            const r = await c.run(combo);
            const { note, counts } = typeof r === "string" ? { note: r, counts: undefined } : r;
            record(key, c.name, "pass", `${note} [${Date.now() - t0} ms]`, counts);
          } catch (e) {
            const msg = (e as Error).message.split("\n")[0].slice(0, 400);
            record(key, c.name, "FAIL", msg, (e as { counts?: string }).counts);
            console.log(`\n### HAProxy ${key} / ${c.name} FAILED\n${combo.diagnostics()}\n`);
            throw e;
          }
        });
      }
    });
  }
}
