// The Deno adapter (Deno.listen), on Deno only. agent.listen() on Deno serves through node:net
// (the Node adapter; listen_test.ts runs the shared suite on it), so the Deno adapter, imported
// on its own, gets the whole suite here.
import { platform } from "node:process";
import { runtimeName as detectRuntime } from "../_runtime.ts";
import { adapterSuite, directImportTest, reusePortTest } from "./_suite.ts";

if (detectRuntime() === "deno") {
  const { listen } = await import("../../src/adapters/deno.ts");

  directImportTest("Deno adapter", listen);

  // Deno.listen({ reusePort: true }) without --unstable-net ends the process (exit code 70)
  // instead of throwing, so the adapter serves reusePort through node:net. These tests run
  // without --unstable-net.
  reusePortTest("Deno adapter", listen);

  adapterSuite("Deno adapter (Deno.listen)", listen, { reusePort: platform === "linux" });
}
