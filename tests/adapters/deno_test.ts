// The Deno adapter, on Deno only; the shared suite runs on Deno through listen_test.ts.
import { test } from "node:test";
import { Agent } from "../../mod.ts";
import { runtimeName as detectRuntime } from "../_runtime.ts";
import { directImportTest } from "./_suite.ts";
import { recordingLogger } from "./_helpers.ts";

if (detectRuntime() === "deno") {
  const { listen } = await import("../../src/adapters/deno.ts");

  directImportTest("Deno adapter", listen);

  // Deno.listen({ reusePort: true }) without --unstable-net ends the process (exit code 70)
  // instead of throwing, so the adapter serves reusePort through node:net.
  test("Deno adapter: reusePort works without --unstable-net", async () => {
    const first = await listen(new Agent({ logger: recordingLogger() }), {
      port: 0,
      reusePort: true,
    });
    try {
      if (first.address.transport !== "tcp") throw new Error("expected TCP");
      const second = await listen(new Agent({ logger: recordingLogger() }), {
        port: first.address.port,
        reusePort: true,
      });
      await second.close();
    } finally {
      await first.close();
    }
  });
}
