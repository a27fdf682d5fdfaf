// The Bun adapter, on Bun only; the shared suite runs on Bun through listen_test.ts.
import { test } from "node:test";
import { runtimeName as detectRuntime } from "../_runtime.ts";
import { directImportTest } from "./_suite.ts";
import { checkKeptChunks } from "./_chunks.ts";
import { selfSignedCertificate } from "./_helpers.ts";

/** The members of Bun's API this test uses. */
interface BunListen {
  listen(options: {
    hostname: string;
    port: number;
    tls?: { cert: string; key: string };
    socket: { data(socket: unknown, chunk: Uint8Array): void };
  }): { port: number; stop(closeActiveConnections?: boolean): void };
}

if (detectRuntime() === "bun") {
  const { listen } = await import("../../src/adapters/bun.ts");
  const bun = (globalThis as unknown as { Bun: BunListen }).Bun;

  directImportTest("Bun adapter", listen);

  // The adapter hands Bun's chunks to the engine without copying: they must not be reused.
  for (const useTls of [false, true]) {
    test(`Bun.listen() data callbacks get chunks Bun never reuses (${useTls ? "TLS" : "TCP"})`, async () => {
      const kept: Uint8Array[] = [];
      const listener = bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        tls: useTls ? selfSignedCertificate() : undefined,
        socket: { data: (_socket, chunk) => void kept.push(chunk) },
      });
      try {
        await checkKeptChunks({ hostname: "127.0.0.1", port: listener.port }, kept, useTls);
      } finally {
        listener.stop(true);
      }
    });
  }
}
