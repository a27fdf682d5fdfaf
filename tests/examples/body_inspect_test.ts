// examples/body_inspect.ts: its patterns (attacks found, ordinary bodies left alone), and the agent
// as a process: a large body in fragments as HAProxy 2.6 sends it, in one large frame as 3.x does,
// a body larger than the buffer reported truncated, and a clean exit on SIGTERM.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FrameType, Value } from "../../src/codec/mod.ts";
import { HaproxySimulator } from "../../src/testing/mod.ts";
import { AttackKind, findAttack } from "../../examples/body_patterns.ts";
import { ExampleProcess } from "./_example_process.ts";

const text = new TextEncoder();

/** An item of the agent's HELLO. */
function helloItem(frame: { items?: readonly { name: string; value: unknown }[] }, name: string) {
  return frame.items?.find((item) => item.name === name)?.value;
}

describe("findAttack()", () => {
  test("SQL injection and path traversal, raw, form-encoded and double-encoded", () => {
    const attacks: [string, AttackKind][] = [
      ["user=admin' OR 1=1", AttackKind.SqlInjection],
      ["q=1%27%20or%20%27a%27%3D%27a", AttackKind.SqlInjection],
      ["q=x'+and+1=1", AttackKind.SqlInjection],
      ['{"id":"1 UNION ALL SELECT password FROM users"}', AttackKind.SqlInjection],
      ["id=1 union/**/select 1", AttackKind.SqlInjection],
      ["id=1; DROP TABLE users", AttackKind.SqlInjection],
      ["id=1 AND SLEEP(5)", AttackKind.SqlInjection],
      ["name=admin'--", AttackKind.SqlInjection],
      ['{"file":"../../etc/passwd"}', AttackKind.PathTraversal],
      ["path=..%2F..%2Fsecret", AttackKind.PathTraversal],
      ["path=%252e%252e%252fsecret", AttackKind.PathTraversal],
      ["f=..\\..\\boot", AttackKind.PathTraversal],
      ["f=/etc/shadow", AttackKind.PathTraversal],
    ];
    for (const [body, kind] of attacks) assert.equal(findAttack(text.encode(body)), kind, body);
  });

  test("ordinary bodies are left alone", () => {
    const clean = [
      "",
      '{"name":"O\'Brien","note":"it\'s -- fine"}',
      "q=union+station&select=all",
      "title=Loading...&path=a/b/c.txt",
      '{"version":"1.2.3","args":["--verbose"]}',
      "comment=I'd rather sleep early",
      "x".repeat(100_000),
    ];
    for (const body of clean) assert.equal(findAttack(text.encode(body)), undefined, body);
    assert.equal(findAttack(new Uint8Array([0xff, 0x00, 0x2e, 0x2e, 0x41])), undefined);
  });
});

/** A JSON body of `size` bytes whose last field is a traversal. */
function traversal(size: number): Uint8Array {
  const tail = '","file":"../../etc/passwd"}';
  return text.encode(`{"data":"${"x".repeat(size - 9 - tail.length)}${tail}`);
}

test("examples/body_inspect: fragmented (2.6) and large (3.x) NOTIFYs, then SIGTERM", async () => {
  const example = await ExampleProcess.start("body_inspect");
  try {
    // 2.6 announces max-frame-size 16380 and fragments the 50 kB body.
    const legacy = await HaproxySimulator.connectSocket({ port: example.port }, { flavor: "2.6" });
    try {
      const hello = await legacy.hello({ maxFrameSize: 16380 });
      assert.equal(hello.type, FrameType.AgentHello);
      assert.equal(helloItem(hello, "max-frame-size"), 16380);
      assert.match(
        String(helloItem(hello, "capabilities")),
        /frag/,
      );
      const body = traversal(50_000);
      const ids = legacy.sendFragmented([{
        name: "inspect-body",
        args: { body: Value.binary(body), size: body.length },
      }], { fragmentSize: 16380 - 32 });
      assert.deepEqual((await legacy.waitAck(ids.streamId, ids.frameId)).vars, {
        "txn.block": true,
        "txn.reason": "path-traversal",
        "txn.inspected": 50_000,
        "txn.truncated": false,
      });
      assert.deepEqual(legacy.violations, []);
    } finally {
      legacy.close();
    }
    // 3.x with tune.bufsize 65536: one frame of about 64 kB; the body was cut at the buffer.
    const mux = await HaproxySimulator.connectSocket({ port: example.port });
    try {
      const hello = await mux.hello({ maxFrameSize: 65532 });
      assert.equal(helloItem(hello, "max-frame-size"), 65532);
      const body = text.encode("a=" + "b".repeat(64_000 - 2));
      const ack = await mux.notify([{
        name: "inspect-body",
        args: { body: Value.binary(body), size: 100_000 },
      }]);
      assert.deepEqual(ack.vars, {
        "txn.block": false,
        "txn.inspected": 64_000,
        "txn.truncated": true,
      });
      // What HAProxy sends when it could not fetch the body: nothing to say.
      const none = await mux.notify([{ name: "inspect-body", args: { body: null, size: 0 } }]);
      assert.deepEqual(none.actions, []);
      assert.deepEqual(mux.violations, []);
    } finally {
      mux.close();
    }
    assert.deepEqual(await example.stop(), { code: 0, signal: null }, example.output);
  } finally {
    example.kill();
  }
});
