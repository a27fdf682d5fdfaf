// The handler test shown in README.md ("Testing your handlers"), run as is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Agent, Value } from "../../mod.ts";
import { HaproxySimulator } from "../../src/testing/mod.ts";

test("the score comes back as a session variable", async () => {
  const agent = new Agent().on("get-ip-reputation", (message, context) => {
    context.setVar("sess", "ip_score", String(message.get("ip")) === "192.0.2.7" ? 99 : 0);
  });
  const haproxy = HaproxySimulator.connect(agent); // or { flavor: "2.6" }
  await haproxy.hello();
  const ack = await haproxy.notify([
    { name: "get-ip-reputation", args: { ip: Value.ipv4("192.0.2.7") } },
  ]);
  assert.equal(ack.vars["sess.ip_score"], 99);
  await haproxy.disconnect();
});
