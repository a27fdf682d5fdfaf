// examples/async_lookup.ts as a process, against a plan service started here: the service's answer,
// then the cache; a lookup slower than the agent's deadline answered with the fallback and its
// request abandoned (the service sees the connection close); the service down: the fallback at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { HaproxySimulator } from "../../src/testing/mod.ts";
import { delay, within } from "../_timing.ts";
import { ExampleProcess } from "./_example_process.ts";

test("examples/async_lookup: service, cache, deadline with abort, service down", async () => {
  const keys: string[] = [];
  let abandoned: () => void = () => {};
  const slowAbandoned = new Promise<void>((resolve) => abandoned = resolve);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const server = http.createServer((req, res) => {
    const key = decodeURIComponent(req.url?.replace(/^\/plans\//, "") ?? "");
    keys.push(key);
    if (key === "slow") {
      res.on("close", () => {
        if (!res.writableEnded) abandoned();
      });
      const timer = setTimeout(() => res.destroyed || res.end('{"plan":"late"}'), 3000);
      timers.add(timer);
      return;
    }
    if (key !== "alice") return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end('{"plan":"gold"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  let serverClosed = false;
  const closeServer = () => {
    if (serverClosed) return Promise.resolve();
    serverClosed = true;
    return new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  try {
    const example = await ExampleProcess.start("async_lookup", {
      args: ["--service", `http://127.0.0.1:${port}/`],
    });
    try {
      const haproxy = await HaproxySimulator.connectSocket({ port: example.port });
      const lookup = async (key: string) => {
        const started = performance.now();
        const ack = await haproxy.notify([{ name: "lookup-plan", args: { key } }]);
        return { vars: ack.vars, ms: performance.now() - started };
      };
      const fallback = { "txn.plan": "unknown", "txn.source": "fallback" };
      try {
        await haproxy.hello();
        assert.deepEqual((await lookup("alice")).vars, {
          "txn.plan": "gold",
          "txn.source": "service",
        });
        assert.deepEqual((await lookup("alice")).vars, {
          "txn.plan": "gold",
          "txn.source": "cache",
        });
        assert.deepEqual((await lookup("x y")).vars, {
          "txn.plan": "none",
          "txn.source": "service",
        });
        assert.deepEqual(keys, ["alice", "x y"]);

        const slow = await lookup("slow");
        assert.deepEqual(slow.vars, fallback);
        assert.ok(slow.ms >= 450 && slow.ms < 2000, `the slow lookup took ${slow.ms} ms`);
        await within(slowAbandoned, 2000, "the service to see the slow lookup abandoned");

        await closeServer();
        const down = await lookup("bob");
        assert.deepEqual(down.vars, fallback);
        assert.ok(down.ms < 400, `with the service down, the answer took ${down.ms} ms`);
        assert.deepEqual((await lookup("alice")).vars, {
          "txn.plan": "gold",
          "txn.source": "cache",
        });
      } finally {
        haproxy.close();
      }
      assert.deepEqual(await example.stop(), { code: 0, signal: null }, example.output);
      assert.match(example.output, /lookup of a key failed, answering with the fallback/);
    } finally {
      example.kill();
    }
  } finally {
    for (const timer of timers) clearTimeout(timer);
    await closeServer();
    await delay(0);
  }
});
