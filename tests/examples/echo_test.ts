// examples/echo.ts as a process: HELLO, NOTIFY with one argument of each kind, every valid name
// echoed back with its type and value, and a clean exit on SIGTERM.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ActionType,
  type DataType,
  FrameType,
  type SpopValue,
  type TypedValue,
  Value,
  VarScope,
} from "../../src/codec/mod.ts";
import { HaproxySimulator } from "../../src/testing/mod.ts";
import { ExampleProcess } from "./_example_process.ts";

test("examples/echo echoes every named argument and exits cleanly on SIGTERM", async () => {
  const example = await ExampleProcess.start("echo");
  try {
    const haproxy = await HaproxySimulator.connectSocket({ port: example.port });
    const args: Array<[string, TypedValue]> = [
      ["ua", Value.string("curl/8.0")],
      ["n", Value.int32(-7)],
      ["big", Value.uint64(2n ** 63n)],
      ["ip", Value.ipv4("192.0.2.7")],
      ["ip6", Value.ipv6("2001:db8::7")],
      ["bin", Value.binary(new Uint8Array([0, 1, 255]))],
      ["flag", Value.bool(true)],
      ["", Value.string("nameless")], // logged only
      ["not-a-var", Value.string("x")], // "-" is not allowed in a variable name: logged only
    ];
    try {
      assert.equal((await haproxy.hello()).type, FrameType.AgentHello);
      const ack = await haproxy.notify([{ name: "check", args }]);
      const echoed: Record<string, { type: DataType; value: SpopValue }> = {};
      for (const action of ack.actions) {
        assert.equal(action.type, ActionType.SetVar);
        if (action.type !== ActionType.SetVar) continue;
        assert.equal(action.scope, VarScope.Transaction);
        echoed[action.name] = { type: action.value.type, value: action.value.value };
      }
      const expected: typeof echoed = {};
      for (const [name, value] of args.slice(0, 7)) {
        expected[name] = { type: value.type, value: value.value };
      }
      assert.deepEqual(echoed, expected);
    } finally {
      haproxy.close();
    }
    assert.deepEqual(await example.stop(), { code: 0, signal: null }, example.output);
    assert.match(example.output, /NOTIFY \d+\/1 check: ua=STRING:"curl\/8\.0" n=INT32:-7 /);
    assert.match(example.output, /\(nameless\)=STRING:"nameless" not-a-var=STRING:"x"/);
    assert.match(example.output, /^stopped$/m);
  } finally {
    example.kill();
  }
});
