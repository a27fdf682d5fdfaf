// The Deno adapter, on Deno only; the shared suite runs on Deno through listen_test.ts.
import { runtimeName as detectRuntime } from "../_runtime.ts";
import { directImportTest, reusePortTest } from "./_suite.ts";

if (detectRuntime() === "deno") {
  const { listen } = await import("../../src/adapters/deno.ts");

  directImportTest("Deno adapter", listen);

  // Deno.listen({ reusePort: true }) without --unstable-net ends the process (exit code 70)
  // instead of throwing, so the adapter serves reusePort through node:net. These tests run
  // without --unstable-net.
  reusePortTest("Deno adapter", listen);
}
