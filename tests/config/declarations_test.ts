// Declaring messages and engines, versions, the processing-timeout rule, and handlers registered
// against a declaration (typed by its argument names, answered under its name).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Agent, Value } from "../../mod.ts";
import { HaproxySimulator } from "../../src/testing/mod.ts";
import {
  defineEngine,
  defineMessage,
  haproxyProcessingTimeout,
  parseHaproxyVersion,
  SpoeEvent,
  spoeEvents,
  variableName,
} from "../../src/config/mod.ts";

describe("defineMessage()", () => {
  test("keeps name, args in order, event, condition and ACLs, frozen", () => {
    const message = defineMessage({
      name: "check",
      args: { ip: "src", path: "path", ua: "req.hdr(user-agent)" },
      event: "on-frontend-http-request",
      condition: "unless is_static",
      acls: { is_static: "path_end .css" },
    });
    assert.deepEqual(Object.entries(message.args), [
      ["ip", "src"],
      ["path", "path"],
      ["ua", "req.hdr(user-agent)"],
    ]);
    assert.equal(message.event, "on-frontend-http-request");
    assert.equal(message.condition, "unless is_static");
    assert.deepEqual(message.acls, { is_static: "path_end .css" });
    assert.ok(Object.isFrozen(message) && Object.isFrozen(message.args));
  });

  test("rejects fields of the wrong JavaScript type with a TypeError", () => {
    const bad = [
      null,
      { name: 1, args: {} },
      { name: "m", args: null },
      { name: "m", args: ["src"] },
      { name: "m", args: { ip: 1 } },
      { name: "m", args: {}, event: 3 },
      { name: "m", args: {}, acls: { a: 1 } },
    ];
    for (const message of bad) {
      // deno-lint-ignore no-explicit-any
      assert.throws(() => defineMessage(message as any), TypeError, JSON.stringify(message));
    }
  });
});

describe("defineEngine()", () => {
  const message = defineMessage({ name: "m", args: { ip: "src" }, event: "on-client-session" });

  test("fills in the agent name, var-prefix, set-on-error and variable types", () => {
    const engine = defineEngine({
      name: "waf",
      messages: [message],
      variables: [{ scope: "txn", name: "verdict" }],
    });
    assert.equal(engine.agent, "waf-agent");
    assert.equal(engine.varPrefix, "waf");
    assert.equal(engine.setOnError, "error");
    assert.equal(engine.setProcessTime, undefined);
    assert.deepEqual(engine.variables, [{ scope: "txn", name: "verdict", type: "str" }]);
    assert.deepEqual(engine.groups, {});
    assert.equal(defineEngine({ name: "x", setOnError: null }).setOnError, undefined);
  });

  test("rejects an unknown scope or type, and non-array lists", () => {
    // deno-lint-ignore no-explicit-any
    const any = (spec: unknown) => () => defineEngine(spec as any);
    assert.throws(any({ name: "e", variables: [{ scope: "global", name: "x" }] }), /scope/);
    assert.throws(
      any({ name: "e", variables: [{ scope: "txn", name: "x", type: "float" }] }),
      /type/,
    );
    assert.throws(any({ name: "e", messages: message }), TypeError);
    assert.throws(any({ name: "e", groups: { g: message } }), TypeError);
    assert.throws(any({ name: 7 }), TypeError);
  });

  test("variableName() is <scope>.<prefix>.<name>", () => {
    const engine = defineEngine({ name: "iprep", varPrefix: "rep.v1" });
    assert.equal(variableName(engine, { scope: "sess", name: "ip_score" }), "sess.rep.v1.ip_score");
  });
});

describe("versions and events", () => {
  test("parseHaproxyVersion() tells the legacy applet (2.6, 3.0) from the mux (3.1+)", () => {
    for (
      const [text, mux] of [
        ["2.6", false],
        ["3.0", false],
        ["3.0.11", false],
        ["3.1", true],
        [
          "3.2",
          true,
        ],
        ["3.4.7-1", true],
        ["4.0", true],
      ] as const
    ) {
      assert.equal(parseHaproxyVersion(text).mux, mux, text);
    }
    assert.deepEqual(parseHaproxyVersion("3.2"), { major: 3, minor: 2, mux: true });
  });

  test("parseHaproxyVersion() rejects versions before 2.6 and non-versions", () => {
    for (const text of ["2.5", "1.8", "three", "", "3"]) {
      assert.throws(() => parseHaproxyVersion(text), RangeError, text);
    }
  });

  test("every supported version has the eight events of SPOE.txt", () => {
    for (const version of ["2.6", "3.0", "3.2", "3.4"]) {
      assert.deepEqual(
        [...spoeEvents(parseHaproxyVersion(version))].sort(),
        Object.values(SpoeEvent).sort(),
      );
    }
    assert.equal(Object.values(SpoeEvent).length, 8);
  });

  test("haproxyProcessingTimeout() adds 10 %, at least 100 ms, to the agent's deadline", () => {
    assert.equal(haproxyProcessingTimeout(10_000), 11_000);
    assert.equal(haproxyProcessingTimeout(500), 600);
    assert.equal(haproxyProcessingTimeout(2_000), 2_200);
    assert.equal(haproxyProcessingTimeout(1), 101);
    assert.equal(haproxyProcessingTimeout(0), 600); // no agent deadline: over the default, 500 ms
  });
});

describe("Agent.on() with a declaration", () => {
  const check = defineMessage({
    name: "check-request",
    args: { ip: "src", path: "path" },
    event: "on-frontend-http-request",
  });

  test("registers the handler under the declared name, and it answers NOTIFY", async () => {
    const agent = new Agent().on(check, (message, context) => {
      context.setVar("txn", "seen", `${message.get("ip")} ${message.get("path")}`);
      // @ts-expect-error: "host" is not a declared argument of check-request.
      context.setVar("txn", "host", String(message.get("host")));
    });
    assert.deepEqual(agent.messageNames, ["check-request"]);
    const haproxy = HaproxySimulator.connect(agent);
    await haproxy.hello();
    const ack = await haproxy.notify([
      { name: "check-request", args: { ip: Value.ipv4("192.0.2.7"), path: "/admin" } },
    ]);
    assert.equal(ack.vars["txn.seen"], "192.0.2.7 /admin");
    assert.equal(ack.vars["txn.host"], "undefined");
    await haproxy.disconnect();
  });

  test("a name and a plain MessageHandler still work", () => {
    const agent = new Agent().on("legacy", (message) => void message.get("anything"));
    assert.ok(agent.messageNames.includes("legacy"));
  });
});
