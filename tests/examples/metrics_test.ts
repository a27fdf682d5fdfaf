// Both examples with --metrics HOST:PORT, as processes on the runtime running the tests: GET
// /metrics (served by that runtime's own HTTP server) counts what the agent did.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Value } from "../../src/codec/mod.ts";
import { HaproxySimulator } from "../../src/testing/mod.ts";
import { ExampleProcess } from "./_example_process.ts";

// echo answers every message with one onNotify handler: its message names are not registered
// handler names, so they count as "other" (a peer cannot grow the label set).
for (
  const [name, message, label] of [
    [
      "ip_reputation",
      { name: "get-ip-reputation", args: { ip: Value.ipv4("192.0.2.7") } },
      "get-ip-reputation",
    ],
    ["echo", { name: "echo-request", args: { a: "x" } }, "other"],
  ] as const
) {
  test(`examples/${name} --metrics serves GET /metrics with the agent's counters`, async () => {
    const example = await ExampleProcess.start(name, { args: ["--metrics", "127.0.0.1:0"] });
    try {
      assert.ok(example.metricsPort > 0, example.output);
      const haproxy = await HaproxySimulator.connectSocket({ port: example.port });
      try {
        await haproxy.hello();
        await haproxy.notify([message]);
        await haproxy.notify([message]);
        const url = `http://127.0.0.1:${example.metricsPort}/metrics`;
        const response = await fetch(url);
        assert.equal(response.status, 200);
        assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
        const text = await response.text();
        assert.match(text, /^spoa_connections_open 1$/m);
        assert.match(text, /^spoa_notifies_total\{outcome="ok"\} 2$/m);
        assert.match(text, /^spoa_handshakes_total\{kind="agent"\} 1$/m);
        assert.match(
          text,
          new RegExp(`^spoa_messages_total\\{message="${label}"\\} 2$`, "m"),
        );
        const missing = await fetch(`http://127.0.0.1:${example.metricsPort}/other`);
        assert.equal(missing.status, 404);
        await missing.body?.cancel();
      } finally {
        haproxy.close();
      }
      assert.deepEqual(await example.stop(), { code: 0, signal: null }, example.output);
      assert.match(example.output, /^stopped$/m);
    } finally {
      example.kill();
    }
  });
}
