// The handshake (NOTES §7, §10, §14): what the agent accepts in HAPROXY-HELLO, what AGENT-HELLO
// answers, the AGENT-DISCONNECT status of each rejected HELLO, and health checks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DataType } from "../../src/codec/typed_value.ts";
import { FrameFlags, FrameType } from "../../src/codec/frame.ts";
import { NamedValue } from "../../src/codec/kv_list.ts";
import { Status } from "../../src/codec/status.ts";
import { SpopError } from "../../src/codec/errors.ts";
import { Agent } from "../../src/engine/agent.ts";
import { negotiateHello } from "../../src/engine/hello.ts";
import { silentLogger } from "../../src/engine/logger.ts";
import { HaproxySimulator } from "../../src/testing/simulator.ts";
import { assertDisconnect, closedWithin, item, RecordingLogger, shut, tap } from "./_helpers.ts";

function quietAgent(options: ConstructorParameters<typeof Agent>[0] = {}): Agent {
  return new Agent({ logger: silentLogger, ...options });
}

for (const versions of ["2.0", " 1.0 , 2.0 ", "2.0,3.0", "1.0,2.0"]) {
  test(`Agent accepts supported-versions ${JSON.stringify(versions)} and answers version 2.0`, async () => {
    const haproxy = HaproxySimulator.connect(quietAgent());
    try {
      const reply = await haproxy.hello({ supportedVersions: versions });
      assert.equal(reply.type, FrameType.AgentHello);
      assert.equal(reply.flags, FrameFlags.Fin);
      assert.equal(reply.streamId, 0);
      assert.equal(reply.frameId, 0);
      assert.equal(item(reply, "version"), "2.0");
      assert.equal(haproxy.isClosed, false);
    } finally {
      await shut(haproxy);
    }
  });
}

test("AGENT-HELLO always carries version (STRING), max-frame-size (UINT32) and capabilities (STRING)", async () => {
  const haproxy = HaproxySimulator.connect(quietAgent());
  try {
    const reply = await haproxy.hello({ capabilities: "" });
    const names = reply.items?.map((entry) => entry.name);
    assert.deepEqual(names, ["version", "max-frame-size", "capabilities"]);
    const types = reply.items?.map((entry) => entry.type);
    assert.deepEqual(types, [DataType.String, DataType.Uint32, DataType.String]);
  } finally {
    await shut(haproxy);
  }
});

for (
  const [haproxySize, agentSize, expected] of [
    [16380, undefined, 16380],
    [16380, 1000, 1000],
    [300, undefined, 300],
    [256, undefined, 256],
    [256, 256, 256],
    [1000, 999, 999],
    [0xffff_ffff, undefined, 65532],
  ] as const
) {
  test(`AGENT-HELLO max-frame-size is ${expected} for HAProxy ${haproxySize} and option ${agentSize}`, async () => {
    const haproxy = HaproxySimulator.connect(quietAgent({ maxFrameSize: agentSize }));
    try {
      const reply = await haproxy.hello({ maxFrameSize: haproxySize });
      assert.equal(reply.type, FrameType.AgentHello);
      assert.equal(item(reply, "max-frame-size"), expected);
    } finally {
      await shut(haproxy);
    }
  });
}

test("Agent refuses a maxFrameSize option below 256 with a RangeError", () => {
  assert.throws(() => new Agent({ maxFrameSize: 255 }), RangeError);
  assert.throws(() => new Agent({ maxFrameSize: 100 }), /maxFrameSize/);
  assert.equal(new Agent({ maxFrameSize: 256 }).options.maxFrameSize, 256);
});

for (
  const [what, hello, status] of [
    ["without supported-versions", { omit: ["supported-versions"] }, Status.NoVersion],
    ["without max-frame-size", { omit: ["max-frame-size"] }, Status.NoFrameSize],
    ["without capabilities", { omit: ["capabilities"] }, Status.NoCapabilities],
    ['offering only version "1.0"', { supportedVersions: "1.0" }, Status.BadVersion],
    ['offering only version "2.1"', { supportedVersions: "2.1" }, Status.BadVersion],
    ['offering "1.0, 3.0"', { supportedVersions: "1.0, 3.0" }, Status.BadVersion],
    ["with max-frame-size 255", { maxFrameSize: 255 }, Status.BadFrameSize],
    ["with max-frame-size 100", { maxFrameSize: 100 }, Status.BadFrameSize],
    ["with max-frame-size 0", { maxFrameSize: 0 }, Status.BadFrameSize],
  ] as const
) {
  test(`Agent answers a HELLO ${what} with AGENT-DISCONNECT status ${status}, then closes`, async () => {
    const logger = new RecordingLogger();
    const haproxy = HaproxySimulator.connect(new Agent({ logger }));
    try {
      const reply = await haproxy.hello(hello);
      assertDisconnect(reply, status);
      await closedWithin(haproxy);
      assert.ok(
        logger.at("error").some((line) => line.message.includes(`status ${status}`)),
        "the rejected handshake is logged as an error",
      );
    } finally {
      await shut(haproxy);
    }
  });
}

test("Agent answers a HELLO with max-frame-size above 2^32-1 (as UINT64) with status 9", async () => {
  const haproxy = HaproxySimulator.connect(quietAgent());
  try {
    haproxy.sendFrame({
      type: FrameType.HaproxyHello,
      items: [
        new NamedValue("supported-versions", DataType.String, "2.0"),
        new NamedValue("max-frame-size", DataType.Uint64, 2n ** 33n),
        new NamedValue("capabilities", DataType.String, ""),
      ],
    });
    assertDisconnect(await haproxy.nextFrame(), Status.BadFrameSize);
    await closedWithin(haproxy);
  } finally {
    await shut(haproxy);
  }
});

test("Agent accepts an empty capabilities string (health-check style) as valid", async () => {
  const haproxy = HaproxySimulator.connect(quietAgent());
  try {
    const reply = await haproxy.hello({ capabilities: "" });
    assert.equal(reply.type, FrameType.AgentHello);
    assert.equal(item(reply, "capabilities"), "fragmentation");
    const ack = await haproxy.notify([{ name: "any" }]);
    assert.deepEqual(ack.actions, []);
  } finally {
    await shut(haproxy);
  }
});

for (
  const [offered, fragmentation, expected] of [
    ["pipelining", true, "pipelining,fragmentation"],
    ["pipelining,async", true, "pipelining,fragmentation"],
    [" async , pipelining ", true, "pipelining,fragmentation"],
    ["async", true, "fragmentation"],
    ["", true, "fragmentation"],
    ["pipelining,async,fragmentation", false, "pipelining"],
    ["async", false, ""],
  ] as const
) {
  test(`Agent announces capabilities "${expected}" for HAProxy's "${offered}" (fragmentation ${fragmentation}), never async`, async () => {
    const haproxy = HaproxySimulator.connect(quietAgent({ fragmentation }));
    try {
      const reply = await haproxy.hello({ capabilities: offered });
      const capabilities = item(reply, "capabilities") as string;
      assert.equal(capabilities, expected);
      assert.ok(!capabilities.split(",").includes("async"));
    } finally {
      await shut(haproxy);
    }
  });
}

test("Agent announces fragmentation by default (option fragmentation defaults to true)", async () => {
  const agent = quietAgent();
  assert.equal(agent.options.fragmentation, true);
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    const reply = await haproxy.hello();
    assert.equal(item(reply, "capabilities"), "pipelining,fragmentation");
  } finally {
    await shut(haproxy);
  }
});

test("Agent answers a health-check HELLO with all three keys, then closes the connection", async () => {
  const tapped = tap(quietAgent());
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    const reply = await haproxy.healthcheck();
    assert.equal(reply.type, FrameType.AgentHello);
    assert.equal(reply.flags, FrameFlags.Fin);
    assert.equal(item(reply, "version"), "2.0");
    assert.equal(item(reply, "max-frame-size"), 16380);
    assert.equal(typeof item(reply, "capabilities"), "string");
    await closedWithin(haproxy);
    // Exactly one frame went out: no AGENT-DISCONNECT after the AGENT-HELLO.
    assert.deepEqual(tapped.frames().map((frame) => frame.type), [FrameType.AgentHello]);
  } finally {
    await shut(haproxy);
  }
});

test("Agent reports the engine-id and remote address of the handshake in the handler context", async () => {
  const seen: Array<[string | undefined, string | undefined]> = [];
  const agent = quietAgent().on("who", (_message, context) => {
    seen.push([context.engineId, context.remoteAddress]);
  });
  const haproxy = HaproxySimulator.connect(agent, { remoteAddress: "192.0.2.9:4000" });
  try {
    await haproxy.hello({ engineId: "engine-42" });
    await haproxy.notify([{ name: "who" }]);
    assert.deepEqual(seen, [["engine-42", "192.0.2.9:4000"]]);
  } finally {
    await shut(haproxy);
  }
});

for (
  const [what, items] of [
    ["supported-versions as a BINARY", [
      new NamedValue("supported-versions", DataType.Binary, new TextEncoder().encode("2.0")),
      new NamedValue("max-frame-size", DataType.Uint32, 16380),
      new NamedValue("capabilities", DataType.String, ""),
    ]],
    ["max-frame-size as a STRING", [
      new NamedValue("supported-versions", DataType.String, "2.0"),
      new NamedValue("max-frame-size", DataType.String, "16380"),
      new NamedValue("capabilities", DataType.String, ""),
    ]],
    ["capabilities as a BOOL", [
      new NamedValue("supported-versions", DataType.String, "2.0"),
      new NamedValue("max-frame-size", DataType.Uint32, 16380),
      new NamedValue("capabilities", DataType.Boolean, true),
    ]],
  ] as const
) {
  test(`Agent answers a HELLO with ${what} with AGENT-DISCONNECT status 4`, async () => {
    const haproxy = HaproxySimulator.connect(quietAgent());
    try {
      haproxy.sendFrame({ type: FrameType.HaproxyHello, items });
      assertDisconnect(await haproxy.nextFrame(), Status.InvalidFrame);
      await closedWithin(haproxy);
    } finally {
      await shut(haproxy);
    }
  });
}

test("An engine-id that is not a STRING is not taken as the engine-id", async () => {
  let seen: unknown = "unset";
  const agent = quietAgent().on("who", (_message, context) => {
    seen = context.engineId;
  });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    haproxy.sendFrame({
      type: FrameType.HaproxyHello,
      items: [
        new NamedValue("supported-versions", DataType.String, "2.0"),
        new NamedValue("max-frame-size", DataType.Uint32, 16380),
        new NamedValue("capabilities", DataType.String, "pipelining"),
        new NamedValue("engine-id", DataType.Int64, 42),
      ],
    });
    assert.equal((await haproxy.nextFrame()).type, FrameType.AgentHello);
    await haproxy.notify([{ name: "who" }]);
    assert.equal(seen, undefined);
  } finally {
    await shut(haproxy);
  }
});

test("negotiateHello() reads a version as MAJOR.MINOR numbers, nothing around them", () => {
  const hello = (versions: string) =>
    negotiateHello(
      [
        new NamedValue("supported-versions", DataType.String, versions),
        new NamedValue("max-frame-size", DataType.Uint32, 16380),
        new NamedValue("capabilities", DataType.String, ""),
      ],
      65532,
      true,
    );
  for (const accepted of ["2.0", "2.00", "02.0", " 2.0 ", "1.0, 2.0", "2.0,3.0"]) {
    assert.equal(hello(accepted).version, "2.0", accepted);
  }
  for (const refused of ["2.0.1", "x2.0", "2.0x", "12.0", "2.1", "2", ""]) {
    assert.throws(
      () => hello(refused),
      (error: unknown) => error instanceof SpopError && error.status === Status.BadVersion,
      refused,
    );
  }
});

test("negotiateHello() takes max-frame-size of any integer type only, and reads healthcheck only when true", () => {
  const items = (size: NamedValue, ...more: NamedValue[]) => [
    new NamedValue("supported-versions", DataType.String, "2.0"),
    size,
    new NamedValue("capabilities", DataType.String, "pipelining"),
    ...more,
  ];
  for (const type of [DataType.Int32, DataType.Uint32, DataType.Int64, DataType.Uint64]) {
    const result = negotiateHello(items(new NamedValue("max-frame-size", type, 1024)), 65532, true);
    assert.equal(result.maxFrameSize, 1024);
  }
  for (
    const size of [
      new NamedValue("max-frame-size", DataType.Boolean, true),
      new NamedValue("max-frame-size", DataType.Null, null),
      new NamedValue("max-frame-size", DataType.String, "1024"),
    ]
  ) {
    assert.throws(
      () => negotiateHello(items(size), 65532, true),
      (error: unknown) => error instanceof SpopError && error.status === Status.InvalidFrame,
    );
  }
  const size = new NamedValue("max-frame-size", DataType.Uint32, 16380);
  const check = (value: boolean) => new NamedValue("healthcheck", DataType.Boolean, value);
  assert.equal(negotiateHello(items(size, check(true)), 65532, true).healthcheck, true);
  assert.equal(negotiateHello(items(size, check(false)), 65532, true).healthcheck, false);
  assert.equal(negotiateHello(items(size), 65532, true).healthcheck, false);
});
