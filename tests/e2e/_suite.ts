// Registering a suite that needs binaries: registered as is, failed when a binary is missing, or
// skipped loudly with SPOA_E2E_ALLOW_SKIP=1.
import { describe, test } from "node:test";
import { ALLOW_SKIP } from "./_env.ts";

/** Registers the suite, or fails it (or skips it loudly) when a binary is missing. */
export function suite(name: string, missing: string | undefined, body: () => void): void {
  if (missing && ALLOW_SKIP) {
    process.stderr.write(`\n!! SKIPPING ${name}: ${missing} (SPOA_E2E_ALLOW_SKIP=1)\n\n`);
    describe(name, { skip: missing }, () => {});
  } else if (missing) {
    describe(name, () => {
      test("binaries", () => {
        throw new Error(`missing binary: ${missing} (set SPOA_E2E_ALLOW_SKIP=1 to skip)`);
      });
    });
  } else describe(name, body);
}
