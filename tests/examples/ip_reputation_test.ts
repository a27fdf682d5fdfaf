// examples/ip_reputation.ts as a process: HELLO, NOTIFY get-ip-reputation, the ACK's score, and a
// clean exit on SIGTERM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ActionType, FrameType, Value, VarScope } from "../../src/codec/mod.ts";
import { HaproxySimulator } from "../../src/testing/mod.ts";
import { expectedScore } from "../e2e/_iprep.ts";
import { ExampleProcess } from "./_example_process.ts";

test("examples/ip_reputation answers get-ip-reputation and exits cleanly on SIGTERM", async () => {
  const example = await ExampleProcess.start("ip_reputation");
  try {
    const haproxy = await HaproxySimulator.connectSocket({ port: example.port });
    try {
      assert.equal((await haproxy.hello()).type, FrameType.AgentHello);
      for (const ip of ["192.0.2.7", "2001:db8::7"]) {
        const ack = await haproxy.notify([{
          name: "get-ip-reputation",
          args: { ip: ip.includes(":") ? Value.ipv6(ip) : Value.ipv4(ip) },
        }]);
        assert.equal(ack.actions.length, 1);
        const [action] = ack.actions;
        assert.equal(action.type, ActionType.SetVar);
        assert.equal(action.scope, VarScope.Session);
        assert.deepEqual(ack.vars, { "sess.ip_score": expectedScore(ip) });
      }
      // A message it does not handle gets an empty ACK.
      assert.deepEqual((await haproxy.notify([{ name: "other", args: { ip: "x" } }])).actions, []);
    } finally {
      haproxy.close();
    }
    assert.deepEqual(await example.stop(), { code: 0, signal: null }, example.output);
    assert.match(example.output, /^stopped$/m);
  } finally {
    example.kill();
  }
});
