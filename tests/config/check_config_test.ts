// checkConfig() / assertConfig(): each kind of finding, raised by the smallest case that has it
// and absent from the corrected case.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "../../mod.ts";
import {
  assertConfig,
  checkConfig,
  type CheckOptions,
  defineEngine,
  defineMessage,
  type Finding,
  SpoeConfigError,
  type SpoeEngineSpec,
} from "../../src/config/mod.ts";

const check = defineMessage({ name: "check", args: { ip: "src" }, event: "on-client-session" });

function codes(spec: Partial<SpoeEngineSpec>, options: Partial<CheckOptions> = {}): string[] {
  const engine = defineEngine({ name: "waf", messages: [check], ...spec });
  return checkConfig(engine, { haproxy: "3.2", ...options }).map((f) => `${f.severity} ${f.code}`);
}

describe("handlers against declarations", () => {
  test("a handler for a message the configuration never sends", () => {
    const agent = new Agent().on(check, () => {}).on("chek", () => {});
    assert.deepEqual(codes({}, { agent }), ["error handler-without-message"]);
  });

  test("a declared message without a handler, unless onNotify handles every message", () => {
    const tag = defineMessage({ name: "tag", args: { h: "req.hdr(host)" } });
    const agent = new Agent().on(check, () => {});
    assert.deepEqual(codes({ groups: { g: [tag] } }, { agent }), ["error message-without-handler"]);
    agent.onNotify(() => {});
    assert.deepEqual(codes({ groups: { g: [tag] } }, { agent }), []);
    assert.deepEqual(codes({}, { agent: new Agent().on(check, () => {}) }), []);
  });

  test("the message names the findings give", () => {
    const agent = new Agent().on("chek", () => {});
    const messages = checkConfig(defineEngine({ name: "waf", messages: [check] }), {
      haproxy: "2.6",
      agent,
    }).map((f) => f.message);
    assert.ok(messages.some((m) => m.includes('"chek"') && m.includes("declared: check")));
    assert.ok(messages.some((m) => m.includes('message "check" has no handler')));
  });
});

describe("names HAProxy rejects", () => {
  test("var-prefix outside [A-Za-z0-9_.]", () => {
    assert.deepEqual(codes({ varPrefix: "my-prefix" }), ["error invalid-var-prefix"]);
    assert.deepEqual(codes({ varPrefix: "my_prefix.v2" }), []);
  });

  test("variable names outside [A-Za-z0-9_.], set-on-error included", () => {
    assert.deepEqual(codes({ variables: [{ scope: "txn", name: "ip-score" }] }), [
      "error invalid-variable-name",
    ]);
    assert.deepEqual(codes({ setOnError: "on error" }), ["error invalid-variable-name"]);
  });

  test("a full name of 64 bytes is too long, 63 fits", () => {
    // "sess.waf." is 9 bytes: a 54-character name makes 63.
    assert.deepEqual(codes({ variables: [{ scope: "sess", name: "n".repeat(54) }] }), []);
    assert.deepEqual(codes({ variables: [{ scope: "sess", name: "n".repeat(55) }] }), [
      "error variable-name-too-long",
    ]);
    assert.deepEqual(codes({ varPrefix: "p".repeat(60), setOnError: "e" }), [
      "error variable-name-too-long",
    ]);
  });

  test("a name setVar() refuses (over 56 characters) though HAProxy's 63 bytes would fit", () => {
    assert.deepEqual(
      codes({ varPrefix: "w", variables: [{ scope: "txn", name: "n".repeat(57) }] }),
      [
        "error variable-name-too-long",
      ],
    );
  });

  test("section and ACL names outside [A-Za-z0-9_.:-]", () => {
    const slash = defineMessage({ name: "a/b", args: { x: "src" }, event: "on-client-session" });
    assert.deepEqual(codes({ messages: [slash] }), ["error invalid-name"]);
    assert.deepEqual(codes({ agent: "my agent" }), ["error invalid-name"]);
    assert.deepEqual(codes({}, { backend: "be/agents" }), ["error invalid-name"]);
    const acl = defineMessage({ ...check, acls: { "bad acl": "src 10.0.0.0/8" } });
    assert.deepEqual(codes({ messages: [acl] }), ["error invalid-name"]);
  });
});

describe("messages and events", () => {
  test("an event the target version does not have", () => {
    const typo = defineMessage({ ...check, event: "on-client-sesion" as never });
    assert.deepEqual(codes({ messages: [typo] }, { haproxy: "2.6" }), ["error unknown-event"]);
  });

  test("an event-driven message without event; a group-only message with one", () => {
    const noEvent = defineMessage({ name: "m", args: { x: "src" } });
    assert.deepEqual(codes({ messages: [noEvent] }), ["error missing-event"]);
    assert.deepEqual(codes({ messages: [], groups: { g: [check] } }), ["warning ignored-event"]);
    assert.deepEqual(codes({ groups: { g: [noEvent] } }), []);
  });

  test("an engine with nothing to send", () => {
    assert.deepEqual(codes({ messages: [] }), ["error empty-engine"]);
  });

  test("two messages of one name, one message in two groups", () => {
    const other = defineMessage({ ...check, args: { ip: "req.hdr_ip(x-real-ip)" } });
    assert.deepEqual(codes({ messages: [check, other] }), ["error duplicate-name"]);
    const tag = defineMessage({ name: "tag", args: { x: "src" } });
    assert.deepEqual(codes({ groups: { a: [tag], b: [tag] } }), ["error duplicate-name"]);
    assert.deepEqual(codes({ groups: { a: [check] }, messages: [check] }), []);
  });

  test("arguments that cannot be written on an args line", () => {
    const spaced = defineMessage({ ...check, args: { s: "str(two words)" } });
    const named = defineMessage({ ...check, args: { "a=b": "src" } });
    const empty = defineMessage({ ...check, args: { "": "src" } });
    for (const message of [spaced, named, empty]) {
      assert.deepEqual(codes({ messages: [message] }), ["error invalid-argument"]);
    }
    const args = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`a${i}`, "src"]));
    assert.deepEqual(codes({ messages: [defineMessage({ ...check, args })] }), [
      "error invalid-argument",
    ]);
  });

  test("conditions start with if or unless, on one line", () => {
    for (const condition of ["{ src 10.0.0.0/8 }", "if", "if a\nevent on-client-session"]) {
      assert.deepEqual(codes({ messages: [defineMessage({ ...check, condition })] }), [
        "error invalid-condition",
      ]);
    }
    for (const condition of ["if { src 10.0.0.0/8 }", "unless local !{ path_beg /x }"]) {
      assert.deepEqual(codes({ messages: [defineMessage({ ...check, condition })] }), []);
    }
  });

  test("a res variable with no response event is dropped by HAProxy", () => {
    const res = [{ scope: "res" as const, name: "r" }];
    assert.deepEqual(codes({ variables: res }), ["warning response-variable"]);
    const late = defineMessage({ name: "late", args: { s: "status" }, event: "on-http-response" });
    assert.deepEqual(codes({ variables: res, messages: [check, late] }), []);
  });
});

describe("timeouts", () => {
  test("timeout processing at or below the agent's processingTimeout", () => {
    assert.deepEqual(codes({}, { processingTimeout: 2000, timeoutProcessing: 2000 }), [
      "error processing-timeout",
    ]);
    assert.deepEqual(codes({}, { processingTimeout: 2000, timeoutProcessing: 2001 }), []);
    const agent = new Agent({ processingTimeout: 3000 }).on(check, () => {});
    assert.deepEqual(codes({}, { agent, timeoutProcessing: 1000 }), ["error processing-timeout"]);
  });

  test("an agent without a processing deadline", () => {
    const agent = new Agent({ processingTimeout: 0 }).on(check, () => {});
    assert.deepEqual(codes({}, { agent }), ["warning processing-timeout"]);
  });
});

describe("frame sizes", () => {
  test("max-frame-size from 256 to tune.bufsize - 4", () => {
    assert.deepEqual(codes({}, { maxFrameSize: 255 }), ["error frame-size"]);
    assert.deepEqual(codes({}, { maxFrameSize: 16381 }), ["error frame-size"]);
    assert.deepEqual(codes({}, { maxFrameSize: 16380 }), []);
    assert.deepEqual(codes({}, { maxFrameSize: 65532, bufsize: 65536 }), []);
    assert.deepEqual(codes({}, { maxFrameSize: 65533, bufsize: 65536 }), ["error frame-size"]);
  });

  test("a max-frame-size above the agent's, and what each generation does with it", () => {
    const agent = new Agent({ maxFrameSize: 4096 }).on(check, () => {});
    assert.deepEqual(codes({}, { agent, maxFrameSize: 8192 }), ["warning frame-size"]);
    assert.deepEqual(codes({}, { agent, maxFrameSize: 4096 }), []);
    // Without the option, the agent's smaller size is the one HAProxy announces.
    assert.deepEqual(codes({}, { agent }), []);
    const messages = (haproxy: string) =>
      checkConfig(defineEngine({ name: "waf", messages: [check] }), {
        haproxy,
        agent,
        maxFrameSize: 8192,
      }).map((f) => f.message).join("\n");
    assert.match(messages("3.2"), /announces max-frame-size 8192 .* maxFrameSize 4096: .* 259 \(/);
    assert.match(messages("2.6"), /259 until each HAProxy thread .* goes in fragments after that/);
  });

  test("bufsize and maxFrameSize must be integers in range", () => {
    for (const options of [{ bufsize: 1024 }, { bufsize: 16384.5 }, { maxFrameSize: -1 }]) {
      assert.throws(() => codes({}, options), RangeError, JSON.stringify(options));
    }
  });
});

describe("a hand-written haproxy.cfg", () => {
  const body = defineMessage({
    name: "inspect",
    args: { b: "req.body" },
    event: "on-frontend-http-request",
  });
  const frontend = (extra = "", mode = "http") =>
    [
      "defaults",
      `    mode ${mode}`,
      "frontend www",
      "    bind :80",
      "    filter spoe engine waf config waf.conf",
      extra,
      "backend spoa-waf",
      "    mode spop",
      "    server a1 127.0.0.1:12345 check",
    ].join("\n");
  const cfg = (haproxyConfig: string, spec: Partial<SpoeEngineSpec> = {}, haproxy = "3.2") =>
    codes(spec, { haproxyConfig, haproxy });

  test("the bufsize of the declaration in the global section", () => {
    assert.deepEqual(cfg(frontend()), []);
    assert.deepEqual(codes({}, { haproxyConfig: frontend(), bufsize: 65536 }), [
      "warning frame-size",
    ]);
    const global = (size: number) => `global\n    tune.bufsize ${size}\n${frontend()}`;
    assert.deepEqual(codes({}, { haproxyConfig: global(32768), bufsize: 65536 }), [
      "warning frame-size",
    ]);
    assert.deepEqual(codes({}, { haproxyConfig: global(65536), bufsize: 65536 }), []);
  });

  test("a body argument needs option http-buffer-request in the proxy or its defaults", () => {
    assert.deepEqual(cfg(frontend(), { messages: [body] }), ["error body-without-buffering"]);
    assert.deepEqual(cfg(frontend("    option http-buffer-request"), { messages: [body] }), []);
    const inDefaults = frontend().replace(
      "defaults\n",
      "defaults\n    option http-buffer-request\n",
    );
    assert.deepEqual(cfg(inDefaults, { messages: [body] }), []);
    const undone = inDefaults.replace(
      "    filter",
      "    no option http-buffer-request\n    filter",
    );
    assert.deepEqual(cfg(undone, { messages: [body] }), ["error body-without-buffering"]);
    const named = "defaults base\n    mode http\n    option http-buffer-request\n" +
      "defaults plain\n    mode http\n" +
      frontend().replace("defaults\n    mode http\n", "").replace(
        "frontend www",
        "frontend www from base",
      );
    assert.deepEqual(cfg(named, { messages: [body] }), []);
    assert.deepEqual(cfg(named.replace("from base", "from plain"), { messages: [body] }), [
      "error body-without-buffering",
    ]);
  });

  test("no filter for the engine, a filter for another engine, comments ignored", () => {
    assert.deepEqual(cfg(frontend().replace("engine waf", "engine other")), [
      "error filter-missing",
    ]);
    assert.deepEqual(cfg(frontend().replace("    filter", "    # filter")), [
      "error filter-missing",
    ]);
    assert.deepEqual(cfg(frontend()), []);
  });

  test("the agents backend: missing, in mode http through defaults, spop before 3.1", () => {
    assert.deepEqual(cfg(frontend().replace("spoa-waf", "agents")), ["error backend"]);
    assert.deepEqual(cfg(frontend().replace("    mode spop\n", "")), ["error backend"]);
    assert.deepEqual(cfg(frontend(), {}, "3.0"), ["error backend"]);
    assert.deepEqual(cfg(frontend().replace("mode spop", "mode tcp"), {}, "2.6"), []);
    assert.deepEqual(cfg(frontend().replace("mode spop", "mode tcp"), {}, "3.4"), []);
    assert.deepEqual(cfg(frontend().replace(/ {4}server .*/, "")), ["warning backend"]);
  });

  test("events that never fire where the filter is", () => {
    const http = defineMessage({ ...check, event: "on-frontend-http-request" });
    assert.deepEqual(
      cfg(frontend("", "tcp").replace("mode spop", "mode tcp"), { messages: [http] }),
      [
        "warning event-never-fires",
      ],
    );
    const inBackend = frontend().replace("frontend www\n    bind :80", "backend www");
    assert.deepEqual(cfg(inBackend), ["warning event-never-fires"]);
    const backendEvent = defineMessage({ ...check, event: "on-backend-http-request" });
    const inListen = frontend().replace("frontend www", "listen www");
    assert.deepEqual(cfg(inListen, { messages: [backendEvent] }), ["warning event-never-fires"]);
    assert.deepEqual(cfg(frontend(), { messages: [backendEvent] }), []);
  });

  test("send-spoe-group: an unknown group, a group never sent", () => {
    const tag = defineMessage({ name: "tag", args: { x: "src" } });
    assert.deepEqual(cfg(frontend(), { groups: { g: [tag] } }), ["warning group"]);
    const sent = frontend("    http-request send-spoe-group waf g");
    assert.deepEqual(cfg(sent, { groups: { g: [tag] } }), []);
    assert.deepEqual(cfg(sent.replace("waf g", "waf h"), { groups: { g: [tag] } }), [
      "error group",
      "warning group",
    ]);
  });

  test("variables the haproxy.cfg reads but the agent does not set", () => {
    const reads = (name: string) =>
      frontend(`    http-request deny if { var(${name}) -m int lt 5 }`);
    const score = { variables: [{ scope: "sess" as const, name: "score" }] };
    assert.deepEqual(cfg(reads("sess.waf.score"), score), []);
    assert.deepEqual(cfg(reads("txn.waf.error"), score), []); // set-on-error
    assert.deepEqual(cfg(reads("txn.waf.score"), score), ["warning unknown-variable"]);
    assert.deepEqual(cfg(reads("sess.waf.scores"), score), ["warning unknown-variable"]);
    assert.deepEqual(cfg(reads("sess.other.score"), score), []); // another prefix
    const setHere = frontend(
      "    http-request set-var(txn.waf.x) str(1)\n" +
        '    http-request return lf-string "%[var(txn.waf.x)]"',
    );
    assert.deepEqual(cfg(setHere, score), []);
    const hint = checkConfig(defineEngine({ name: "waf", messages: [check], ...score }), {
      haproxy: "3.2",
      haproxyConfig: reads("txn.waf.score"),
    });
    assert.match(hint[0].message, /it sets sess\.waf\.score: check the scope/);
  });

  test("a proc variable must exist in haproxy.cfg for HAProxy to update it", () => {
    const proc = { variables: [{ scope: "proc" as const, name: "hits" }] };
    assert.deepEqual(cfg(frontend(), proc), ["warning proc-variable"]);
    const global = "global\n    set-var proc.waf.hits int(0)\n" + frontend();
    assert.deepEqual(cfg(global, proc), []);
    assert.deepEqual(
      cfg(frontend('    http-request return lf-string "%[var(proc.waf.hits)]"'), proc),
      [],
    );
  });
});

describe("assertConfig()", () => {
  test("throws SpoeConfigError with every finding when there is an error", () => {
    const engine = defineEngine({
      name: "waf",
      varPrefix: "a-b",
      messages: [check],
      variables: [{ scope: "res", name: "r" }],
    });
    assert.throws(() => assertConfig(engine, { haproxy: "3.2" }), (error: unknown) => {
      assert.ok(error instanceof SpoeConfigError);
      assert.deepEqual(error.findings.map((f: Finding) => f.severity), ["error", "warning"]);
      assert.match(error.message, /^SPOE engine "waf": 1 problem:\n {2}- var-prefix "a-b"/);
      return true;
    });
  });

  test("returns the warnings otherwise", () => {
    const engine = defineEngine({
      name: "waf",
      messages: [check],
      variables: [{ scope: "res", name: "r" }],
    });
    assert.deepEqual(assertConfig(engine, { haproxy: "3.2" }).map((f) => f.code), [
      "response-variable",
    ]);
  });
});
