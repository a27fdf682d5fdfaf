// The Node adapter, on Node, and on Deno (whose agent.listen() serves through node:net); the
// shared suite runs on both through listen_test.ts.
import { test } from "node:test";
import * as net from "node:net";
import * as tls from "node:tls";
import { runtimeName as detectRuntime } from "../_runtime.ts";
import { directImportTest } from "./_suite.ts";
import { checkKeptChunks } from "./_chunks.ts";
import { selfSignedCertificate } from "./_helpers.ts";

const runtime = detectRuntime();
if (runtime === "node" || runtime === "deno") {
  const { listen } = await import("../../src/adapters/node.ts");

  directImportTest(`Node adapter on ${runtime}`, listen);

  // The adapter views Node's Buffers (Deno's, on Deno) as Uint8Arrays without copying: they must
  // not be reused.
  for (const useTls of [false, true]) {
    test(`node:${useTls ? "tls" : "net"} 'data' events carry Buffers ${runtime} never reuses`, async () => {
      const kept: Uint8Array[] = [];
      const keep = (socket: net.Socket) => {
        socket.on("data", (chunk: Uint8Array) => void kept.push(chunk));
      };
      const server = useTls
        ? tls.createServer(selfSignedCertificate(), keep)
        : net.createServer(keep);
      await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
      try {
        const port = (server.address() as net.AddressInfo).port;
        await checkKeptChunks({ hostname: "127.0.0.1", port }, kept, useTls);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }
}
