// NOTIFY → handlers → ACK (NOTES §4, §8): ids, handler kinds and order, returned actions, and the
// message API handlers see, with every value type HAProxy sends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Action, ActionType, setVar, unsetVar, VarScope } from "../../src/codec/action.ts";
import { FrameFlags, FrameType } from "../../src/codec/frame.ts";
import { Ipv4Address, Ipv6Address } from "../../src/codec/ip_address.ts";
import type { Message } from "../../src/codec/message.ts";
import { DataType, Value } from "../../src/codec/typed_value.ts";
import { Agent } from "../../src/engine/agent.ts";
import type { NotifyContext } from "../../src/engine/context.ts";
import { silentLogger } from "../../src/engine/logger.ts";
import { HaproxySimulator } from "../../src/testing/simulator.ts";
import { delay, shut, tap, tick } from "./_helpers.ts";

test("Agent answers a NOTIFY with exactly one ACK carrying the same stream-id and frame-id", async () => {
  const agent = new Agent({ logger: silentLogger }).on("check", (_message, context) => {
    context.setVar("sess", "score", 7);
  });
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello();
    const ack = await haproxy.notify([{ name: "check" }], { streamId: 5, frameId: 3 });
    assert.equal(ack.streamId, 5);
    assert.equal(ack.frameId, 3);
    assert.deepEqual(ack.vars, { "sess.score": 7 });
    await tick();
    const acks = tapped.acks(5, 3);
    assert.equal(acks.length, 1);
    assert.equal(acks[0].flags, FrameFlags.Fin);
    assert.equal(tapped.frames().filter((frame) => frame.type === FrameType.Ack).length, 1);
  } finally {
    await shut(haproxy);
  }
});

test("Agent answers a NOTIFY with stream-id 0 (HAProxy 2.6's first stream)", async () => {
  const agent = new Agent({ logger: silentLogger }).on("check", (_message, context) => {
    context.setVar("txn", "seen", true);
  });
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    const sent = haproxy.sendNotify([{ name: "check" }]);
    assert.equal(sent.streamId, 0);
    const ack = await haproxy.waitAck(sent.streamId, sent.frameId);
    assert.equal(ack.streamId, 0);
    assert.equal(ack.frameId, 1);
    assert.deepEqual(ack.vars, { "txn.seen": true });
  } finally {
    await shut(haproxy);
  }
});

test("Agent answers a (stream-id, frame-id) pair each time it is reused", async () => {
  let calls = 0;
  const agent = new Agent({ logger: silentLogger }).on("check", (_message, context) => {
    context.setVar("txn", "call", ++calls);
  });
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    for (let i = 1; i <= 3; i++) {
      const ack = await haproxy.notify([{ name: "check" }], { streamId: 4, frameId: 1 });
      assert.equal(ack.vars["txn.call"], i);
    }
    await tick();
    assert.equal(tapped.acks(4, 1).length, 3);
  } finally {
    await shut(haproxy);
  }
});

test("Agent answers messages without a handler with an ACK without actions", async () => {
  let called = false;
  const agent = new Agent({ logger: silentLogger }).on("other", () => {
    called = true;
  });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const ack = await haproxy.notify([{ name: "unknown", args: { a: 1 } }, { name: "unknown2" }]);
    assert.deepEqual(ack.actions, []);
    assert.equal(called, false);
    const empty = await haproxy.notify([]);
    assert.deepEqual(empty.actions, []);
  } finally {
    await shut(haproxy);
  }
});

test("onNotify handler gets all messages of the NOTIFY and runs after the per-message handlers", async () => {
  const order: string[] = [];
  let notifyMessages: string[] = [];
  let actionsSeen: string[] = [];
  const agent = new Agent({ logger: silentLogger })
    .on("a", (_message, context) => {
      order.push("a");
      context.setVar("txn", "a", 1);
    })
    .on("c", (_message, context) => {
      order.push("c");
      context.setVar("txn", "c", 3);
    })
    .onNotify((messages, context) => {
      order.push("notify");
      notifyMessages = messages.map((message) => message.name);
      actionsSeen = context.actions.map((action) => action.name);
      context.setVar("txn", "all", messages.length);
    });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const ack = await haproxy.notify([{ name: "a" }, { name: "b" }, { name: "c" }]);
    assert.deepEqual(order, ["a", "c", "notify"]);
    assert.deepEqual(notifyMessages, ["a", "b", "c"]);
    assert.deepEqual(actionsSeen, ["a", "c"], "onNotify sees the actions already added");
    assert.deepEqual(ack.actions.map((action) => action.name), ["a", "c", "all"]);
    assert.deepEqual(ack.vars, { "txn.a": 1, "txn.c": 3, "txn.all": 3 });
  } finally {
    await shut(haproxy);
  }
});

test("context.actions is the live list: read before any action is added, it shows the actions added after", async () => {
  let kept: readonly Action[] | undefined;
  let handlerError: unknown;
  const agent = new Agent({ logger: silentLogger })
    .on("a", (_message, context) => {
      kept = context.actions;
      try {
        // Untyped code may still push onto it, as before: the array is never a frozen stand-in.
        (context.actions as Action[]).push(setVar("txn", "pushed", true));
      } catch (error) {
        handlerError = error;
      }
      context.setVar("txn", "a", 1);
    });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const ack = await haproxy.notify([{ name: "a" }]);
    assert.equal(handlerError, undefined);
    assert.deepEqual(kept?.map((action) => action.name), ["pushed", "a"]);
    assert.deepEqual(ack.vars, { "txn.pushed": true, "txn.a": 1 });
  } finally {
    await shut(haproxy);
  }
});

test("Handlers may return an array of actions, appended after those set through the context", async () => {
  const agent = new Agent({ logger: silentLogger })
    .on("m", (_message, context) => {
      context.setVar("txn", "first", 1);
      return [setVar("sess", "second", "two"), unsetVar("req", "third")];
    })
    .onNotify(async () => {
      await delay(1);
      return [setVar("proc", "fourth", Value.uint32(4))];
    });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const ack = await haproxy.notify([{ name: "m" }]);
    const expected: Action[] = [
      setVar("txn", "first", 1),
      setVar("sess", "second", "two"),
      { type: ActionType.UnsetVar, scope: VarScope.Request, name: "third" },
      setVar("proc", "fourth", Value.uint32(4)),
    ];
    assert.equal(ack.actions.length, expected.length);
    for (let i = 0; i < expected.length; i++) {
      const got = ack.actions[i];
      const want = expected[i];
      assert.equal(got.type, want.type);
      assert.equal(got.scope, want.scope);
      assert.equal(got.name, want.name);
      if (got.type === ActionType.SetVar && want.type === ActionType.SetVar) {
        assert.equal(got.value.type, want.value.type);
        assert.equal(got.value.value, want.value.value);
      }
    }
  } finally {
    await shut(haproxy);
  }
});

test("Agent runs sync and async handlers of one NOTIFY in message order", async () => {
  const order: string[] = [];
  const agent = new Agent({ logger: silentLogger })
    .on("sync1", (_message, context) => {
      order.push("sync1");
      context.setVar("txn", "s1", 1);
    })
    .on("async", async (_message, context) => {
      order.push("async:start");
      await delay(5);
      order.push("async:end");
      context.setVar("txn", "as", 2);
    })
    .on("sync2", (_message, context) => {
      order.push("sync2");
      context.setVar("txn", "s2", 3);
    })
    .on("thenable", (_message, context) => {
      order.push("thenable");
      // A plain promise returned by a non-async function counts as asynchronous too.
      return Promise.resolve().then(() => {
        context.setVar("txn", "th", 4);
        return undefined;
      });
    });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const ack = await haproxy.notify([
      { name: "sync1" },
      { name: "async" },
      { name: "sync2" },
      { name: "thenable" },
    ]);
    assert.deepEqual(order, ["sync1", "async:start", "async:end", "sync2", "thenable"]);
    assert.deepEqual(ack.actions.map((action) => action.name), ["s1", "as", "s2", "th"]);
  } finally {
    await shut(haproxy);
  }
});

test("Message API: get, arg, at, has, size, iteration and toObject, with nameless arguments", async () => {
  let seen: Message | undefined;
  let context: NotifyContext | undefined;
  const agent = new Agent({ logger: silentLogger }).on("msg", (message, ctx) => {
    seen = message;
    context = ctx;
  });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    await haproxy.notify([{
      name: "msg",
      args: [["ip", "192.0.2.7"], ["", "anon1"], ["n", 42], ["", "anon2"], ["n", 43]],
    }]);
    const message = seen!;
    assert.equal(message.name, "msg");
    assert.equal(message.size, 5);
    assert.equal(message.get("ip"), "192.0.2.7");
    assert.equal(message.get("n"), 42, "get returns the first argument of a repeated name");
    assert.equal(message.get(""), "anon1");
    assert.equal(message.get("missing"), undefined);
    assert.equal(message.arg("n")?.type, DataType.Int64);
    assert.equal(message.arg("missing"), undefined);
    assert.equal(message.has("ip"), true);
    assert.equal(message.has(""), true);
    assert.equal(message.has("missing"), false);
    assert.equal(message.at(0)?.name, "ip");
    assert.equal(message.at(1)?.name, "");
    assert.equal(message.at(3)?.value, "anon2");
    assert.equal(message.at(-1)?.value, 43);
    assert.equal(message.at(5), undefined);
    assert.deepEqual(
      [...message].map((arg) => [arg.name, arg.value]),
      [["ip", "192.0.2.7"], ["", "anon1"], ["n", 42], ["", "anon2"], ["n", 43]],
    );
    assert.deepEqual(message.toObject(), { ip: "192.0.2.7", "": "anon1", n: 42 });
    assert.equal(context!.messages.length, 1);
    assert.equal(context!.messages[0], message);
    assert.equal(context!.streamId, 1);
    assert.equal(context!.frameId, 1);
  } finally {
    await shut(haproxy);
  }
});

test("Handlers get typed values: INT64 numbers, bigint extremes, IP addresses, binary, boolean, null", async () => {
  let seen: Message | undefined;
  const agent = new Agent({ logger: silentLogger }).on("types", (message, context) => {
    seen = message;
    // Echo every argument back, so the values also survive the way out.
    for (const arg of message) context.setVar("txn", arg.name, arg);
  });
  const haproxy = HaproxySimulator.connect(agent);
  const max = 2n ** 63n - 1n;
  const min = -(2n ** 63n);
  const bin = new Uint8Array([0, 1, 0xfe, 0xff]);
  try {
    await haproxy.hello();
    const ack = await haproxy.notify([{
      name: "types",
      args: {
        i: 42,
        neg: -1,
        big: -123456789,
        imax: max,
        imin: min,
        ip4: Ipv4Address.parse("192.0.2.7"),
        ip6: Ipv6Address.parse("2001:db8::7"),
        bin,
        empty: new Uint8Array(0),
        str: "héllo",
        t: true,
        f: false,
        nul: null,
      },
    }]);
    const message = seen!;
    const typeOf = (name: string) => message.arg(name)?.type;
    for (const name of ["i", "neg", "big", "imax", "imin"]) {
      assert.equal(typeOf(name), DataType.Int64);
    }
    assert.equal(message.get("i"), 42);
    assert.equal(message.get("neg"), -1);
    assert.equal(message.get("big"), -123456789);
    assert.equal(message.get("imax"), max);
    assert.equal(typeof message.get("imax"), "bigint");
    assert.equal(message.get("imin"), min);
    assert.equal(typeOf("ip4"), DataType.Ipv4);
    assert.ok(message.get("ip4") instanceof Ipv4Address);
    assert.equal(String(message.get("ip4")), "192.0.2.7");
    assert.equal(typeOf("ip6"), DataType.Ipv6);
    assert.ok(message.get("ip6") instanceof Ipv6Address);
    assert.equal(String(message.get("ip6")), "2001:db8::7");
    assert.equal(typeOf("bin"), DataType.Binary);
    assert.ok(message.get("bin") instanceof Uint8Array);
    assert.deepEqual([...(message.get("bin") as Uint8Array)], [...bin]);
    assert.equal((message.get("empty") as Uint8Array).length, 0);
    assert.equal(typeOf("str"), DataType.String);
    assert.equal(message.get("str"), "héllo");
    assert.equal(typeOf("t"), DataType.Boolean);
    assert.equal(message.get("t"), true);
    assert.equal(message.get("f"), false);
    assert.equal(typeOf("nul"), DataType.Null);
    assert.equal(message.get("nul"), null);
    assert.equal(message.has("nul"), true);

    // The echoed values come back with the same types and values.
    assert.equal(ack.actions.length, 13);
    for (const action of ack.actions) {
      assert.equal(action.type, ActionType.SetVar);
      if (action.type !== ActionType.SetVar) continue;
      assert.equal(action.value.type, message.arg(action.name)?.type, action.name);
    }
    assert.equal(ack.vars["txn.imin"], min);
    assert.equal(ack.vars["txn.neg"], -1);
    assert.equal(String(ack.vars["txn.ip6"]), "2001:db8::7");
    assert.deepEqual([...(ack.vars["txn.bin"] as Uint8Array)], [...bin]);
    assert.equal(ack.vars["txn.nul"], null);
  } finally {
    await shut(haproxy);
  }
});

for (const kind of ["sync", "async"] as const) {
  test(`A ${kind} handler returning a million actions gets the fallback ACK, and nothing escapes`, async () => {
    const many = new Array(1_000_000).fill(setVar("txn", "n", 1));
    const agent = new Agent({ logger: silentLogger, fallbackActions: [setVar("txn", "fb", true)] })
      .on("many", kind === "sync" ? () => many : () => Promise.resolve(many))
      .on("ping", (_message, context) => context.setVar("txn", "pong", true));
    const haproxy = HaproxySimulator.connect(agent);
    try {
      await haproxy.hello();
      // Appended without a spread (which overflows the stack); too big for a frame, so the
      // fallback goes out, and the connection keeps serving.
      assert.deepEqual((await haproxy.notify([{ name: "many" }])).vars, { "txn.fb": true });
      assert.deepEqual((await haproxy.notify([{ name: "ping" }])).vars, { "txn.pong": true });
    } finally {
      await shut(haproxy);
    }
  });
}

test("A thenable that calls back twice, or throws from then(), still gets exactly one ACK", async () => {
  const twice = {
    then(resolve: (value: undefined) => void, reject: (error: unknown) => void) {
      resolve(undefined);
      resolve(undefined);
      reject(new Error("late"));
    },
  };
  const throwing = {
    then() {
      throw new Error("then() threw");
    },
  };
  const agent = new Agent({ logger: silentLogger, fallbackActions: [setVar("txn", "fb", true)] })
    .on("twice", (_message, context) => {
      context.setVar("txn", "ok", true);
      return twice as unknown as Promise<undefined>;
    })
    .on("throwing", () => throwing as unknown as Promise<undefined>);
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello();
    assert.deepEqual((await haproxy.notify([{ name: "twice" }], { streamId: 1 })).vars, {
      "txn.ok": true,
    });
    assert.deepEqual((await haproxy.notify([{ name: "throwing" }], { streamId: 3 })).vars, {
      "txn.fb": true,
    });
    await delay(10);
    assert.equal(tapped.acks(1, 1).length, 1);
    assert.equal(tapped.acks(3, 1).length, 1);
  } finally {
    await shut(haproxy);
  }
});
