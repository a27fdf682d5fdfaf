// generateConfig(): the SPOE file, the filter lines, the agents backend and the trial haproxy.cfg
// for each HAProxy generation. Real HAProxy checks the same output in tests/e2e/config.e2e.ts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "../../mod.ts";
import {
  checkConfig,
  defineEngine,
  defineMessage,
  generateConfig,
  SpoeConfigError,
} from "../../src/config/mod.ts";

const getIpReputation = defineMessage({
  name: "get-ip-reputation",
  args: { ip: "src" },
  event: "on-client-session",
});
const iprep = defineEngine({
  name: "iprep",
  messages: [getIpReputation],
  variables: [{ scope: "sess", name: "ip_score", type: "int" }],
});

/** The lines of a section (`spoe-agent X`, `backend Y`, ...) up to the next blank line. */
function section(text: string, header: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(header);
  assert.ok(start >= 0, `no "${header}" in:\n${text}`);
  const end = lines.indexOf("", start);
  return lines.slice(start + 1, end < 0 ? undefined : end).map((l) => l.trim());
}

describe("generateConfig() for each HAProxy generation", () => {
  test("2.6 and 3.0: backend in mode tcp, timeout hello and idle in the agent", () => {
    for (const haproxy of ["2.6", "3.0"]) {
      const config = generateConfig(iprep, { haproxy });
      assert.deepEqual(section(config.backend, "backend spoa-iprep"), [
        "mode tcp",
        "option spop-check",
        "timeout connect 2s",
        "timeout server 60s",
        "server agent1 127.0.0.1:12345 check inter 2s",
      ]);
      const agent = section(config.spoe, "spoe-agent iprep-agent");
      assert.ok(agent.includes("timeout hello 2s") && agent.includes("timeout idle 30s"));
    }
  });

  test("3.1 and later: backend in mode spop, no timeout hello or idle (ignored there)", () => {
    for (const haproxy of ["3.1", "3.2", "3.4"]) {
      const config = generateConfig(iprep, { haproxy });
      assert.equal(section(config.backend, "backend spoa-iprep")[0], "mode spop");
      assert.ok(config.backend.includes("option spop-check"));
      assert.doesNotMatch(config.spoe, /timeout (hello|idle)/);
    }
  });

  test("the spoe-agent section: messages, var-prefix, set-on-error, use-backend", () => {
    const config = generateConfig(iprep, { haproxy: "3.2" });
    const lines = config.spoe.split("\n");
    assert.ok(lines.includes("[iprep]"));
    assert.deepEqual(
      section(config.spoe, "spoe-agent iprep-agent").filter((l) => !l.startsWith("#")),
      [
        "messages get-ip-reputation",
        "option var-prefix iprep",
        "option set-on-error error",
        "timeout processing 600ms",
        "use-backend spoa-iprep",
      ],
    );
    assert.deepEqual(section(config.spoe, "spoe-message get-ip-reputation"), [
      "args ip=src",
      "event on-client-session",
    ]);
    assert.equal(config.filter, "    filter spoe engine iprep config iprep-spoe.conf\n");
    assert.equal(config.spoeFile, "iprep-spoe.conf");
  });
});

describe("timeout processing", () => {
  test("is the agent's processingTimeout plus the margin, and says so", () => {
    const agent = new Agent({ processingTimeout: 500 }).on(getIpReputation, () => {});
    const config = generateConfig(iprep, { haproxy: "3.2", agent });
    assert.equal(config.timeoutProcessing, 600);
    assert.match(
      config.spoe,
      /# Above the agent's processingTimeout \(500 ms\).*\n {4}timeout processing 600ms\n/,
    );
  });

  test("takes processingTimeout without an agent, and an explicit value above it", () => {
    assert.equal(
      generateConfig(iprep, { haproxy: "2.6", processingTimeout: 2000 }).timeoutProcessing,
      2200,
    );
    const explicit = generateConfig(iprep, { haproxy: "2.6", timeoutProcessing: 30_000 });
    assert.match(explicit.spoe, /timeout processing 30s/);
  });

  test("refuses a timeout processing the agent's deadline does not fit in", () => {
    assert.throws(
      () =>
        generateConfig(iprep, { haproxy: "3.2", processingTimeout: 5000, timeoutProcessing: 5000 }),
      (error: unknown) =>
        error instanceof SpoeConfigError &&
        error.findings.some((f) => f.code === "processing-timeout"),
    );
  });
});

describe("messages, groups, arguments", () => {
  const body = defineMessage({
    name: "inspect-body",
    args: { body: "req.body", len: "req.body_len" },
    event: "on-frontend-http-request",
    acls: { is_post: "method POST" },
    condition: "if is_post",
  });
  // In the messages (sent on its event) and in a group (sent by send-spoe-group) at once.
  const tag = defineMessage({
    name: "tag",
    args: { host: "req.hdr(host)" },
    event: "on-frontend-http-request",
  });
  const engine = defineEngine({
    name: "waf",
    varPrefix: "w",
    messages: [body, tag],
    groups: { late: [tag] },
    variables: [{ scope: "txn", name: "raw", type: "bin" }],
    setProcessTime: "ptime",
  });

  test("body arguments bring option http-buffer-request, groups their send-spoe-group rule", () => {
    const config = generateConfig(engine, { haproxy: "3.0" });
    assert.equal(
      config.filter,
      [
        "    filter spoe engine waf config waf-spoe.conf",
        "    option http-buffer-request",
        "    http-request send-spoe-group waf late",
        "",
      ].join("\n"),
    );
    assert.doesNotMatch(generateConfig(iprep, { haproxy: "3.0" }).filter, /buffer/);
  });

  test("each message once, its ACLs, args and condition; the group section", () => {
    const config = generateConfig(engine, { haproxy: "3.2" });
    assert.equal(config.spoe.split("spoe-message tag\n").length, 2);
    assert.deepEqual(section(config.spoe, "spoe-message inspect-body"), [
      "acl is_post method POST",
      "args body=req.body len=req.body_len",
      "event on-frontend-http-request if is_post",
    ]);
    assert.deepEqual(section(config.spoe, "spoe-group late"), ["messages tag"]);
    const agent = section(config.spoe, "spoe-agent waf-agent");
    assert.ok(agent.includes("messages inspect-body tag"));
    assert.ok(agent.includes("groups late"));
    assert.ok(agent.includes("option set-process-time ptime"));
  });

  test("long argument lists are split over several args lines (HAProxy reads 64 words a line)", () => {
    const args = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`a${i}`, `int(${i})`]));
    const many = defineMessage({ name: "many", args, event: "on-client-session" });
    const config = generateConfig(defineEngine({ name: "m", messages: [many] }), {
      haproxy: "3.2",
    });
    const lines = section(config.spoe, "spoe-message many");
    assert.deepEqual(lines.map((l) => l.split(" ").length), [17, 17, 9, 2]);
    const words = lines.filter((l) => l.startsWith("args ")).flatMap((l) => l.split(" ").slice(1));
    assert.deepEqual(words, Object.entries(args).map(([n, e]) => `${n}=${e}`));
  });
});

describe("buffer and frame sizes", () => {
  const section26 = (config: { spoe: string }) => section(config.spoe, "spoe-agent iprep-agent");

  test("bufsize: tune.bufsize in the global lines and the trial haproxy.cfg", () => {
    assert.equal(generateConfig(iprep, { haproxy: "3.2" }).global, "");
    const config = generateConfig(iprep, {
      haproxy: "3.2",
      bufsize: 65536,
      frontend: { port: 8080 },
    });
    assert.equal(config.global, "    tune.bufsize 65536\n");
    assert.deepEqual(section(config.haproxy!, "global"), [
      "log stdout format raw local0 info",
      "tune.bufsize 65536",
    ]);
    assert.doesNotMatch(config.spoe, /max-frame-size/);
  });

  test("max-frame-size: as given, else the agent's when smaller than bufsize - 4", () => {
    const explicit = generateConfig(iprep, { haproxy: "2.6", bufsize: 65536, maxFrameSize: 16380 });
    assert.ok(section26(explicit).includes("max-frame-size 16380"));
    const agent = (maxFrameSize?: number) =>
      new Agent({ maxFrameSize }).on(getIpReputation, () => {});
    // The default agent (65532) and HAProxy's default bufsize (16380 announced): nothing to say.
    assert.doesNotMatch(generateConfig(iprep, { haproxy: "2.6", agent: agent() }).spoe, /max-f/);
    assert.doesNotMatch(
      generateConfig(iprep, { haproxy: "3.2", agent: agent(), bufsize: 65536 }).spoe,
      /max-frame-size/,
    );
    for (const haproxy of ["2.6", "3.2"]) {
      const larger = generateConfig(iprep, { haproxy, agent: agent(), bufsize: 131072 });
      assert.ok(section26(larger).includes("max-frame-size 65532"), haproxy);
      const smaller = generateConfig(iprep, { haproxy, agent: agent(4096) });
      assert.ok(section26(smaller).includes("max-frame-size 4096"), haproxy);
    }
  });

  test("a max-frame-size HAProxy rejects is refused", () => {
    assert.throws(
      () => generateConfig(iprep, { haproxy: "3.2", maxFrameSize: 20000 }),
      (error: unknown) =>
        error instanceof SpoeConfigError && error.findings.some((f) => f.code === "frame-size") &&
        /16380, with the default bufsize/.test(error.message),
    );
  });
});

describe("agents", () => {
  test("one server line per address: TCP, IPv6, Unix socket, wildcard made loopback", () => {
    const config = generateConfig(iprep, {
      haproxy: "3.2",
      servers: ["10.0.0.1:9000", "[2001:db8::1]:9001", "/run/agent.sock", ":9002", {
        hostname: "::",
        port: 9003,
      }, { path: "rel.sock" }],
      serverOptions: "ssl verify none",
    });
    const servers = section(config.backend, "backend spoa-iprep").filter((l) =>
      l.startsWith("server")
    );
    assert.deepEqual(servers, [
      "server agent1 10.0.0.1:9000 check inter 2s ssl verify none",
      "server agent2 [2001:db8::1]:9001 check inter 2s ssl verify none",
      "server agent3 unix@/run/agent.sock check inter 2s ssl verify none",
      "server agent4 127.0.0.1:9002 check inter 2s ssl verify none",
      "server agent5 [::1]:9003 check inter 2s ssl verify none",
      "server agent6 unix@rel.sock check inter 2s ssl verify none",
    ]);
    assert.ok(config.backend.includes("balance roundrobin"));
  });

  test("bad addresses and options are errors", () => {
    assert.throws(() => generateConfig(iprep, { haproxy: "3.2", servers: ["nope"] }), TypeError);
    assert.throws(() => generateConfig(iprep, { haproxy: "3.2", servers: [] }), TypeError);
    assert.throws(
      () => generateConfig(iprep, { haproxy: "3.2", servers: [{ port: 0 }] }),
      RangeError,
    );
    assert.throws(() => generateConfig(iprep, { haproxy: "2.4" }), RangeError);
    assert.throws(() => generateConfig(iprep, { haproxy: "3.2", timeoutConnect: -1 }), RangeError);
  });
});

describe("the trial haproxy.cfg", () => {
  test("only with frontend; it answers in the frontend when every event fires there", () => {
    assert.equal(generateConfig(iprep, { haproxy: "3.2" }).haproxy, undefined);
    const config = generateConfig(iprep, { haproxy: "3.2", frontend: { port: 8081 } });
    const frontend = section(config.haproxy!, "frontend iprep-trial");
    assert.deepEqual(frontend, [
      "bind 127.0.0.1:8081",
      "filter spoe engine iprep config iprep-spoe.conf",
      "http-request return status 200 content-type text/plain lf-string " +
      '"sess.iprep.ip_score=%[var(sess.iprep.ip_score)]\\ntxn.iprep.error=%[var(txn.iprep.error)]\\n"',
    ]);
    assert.ok(config.haproxy!.includes(config.backend));
    assert.ok(config.haproxy!.split("\n").includes("defaults"));
  });

  test("with response or backend events, the request goes through an internal origin", () => {
    const late = defineMessage({ name: "late", args: { st: "status" }, event: "on-http-response" });
    const engine = defineEngine({
      name: "resp",
      messages: [late],
      variables: [{ scope: "res", name: "seen", type: "bin" }],
    });
    const config = generateConfig(engine, {
      haproxy: "2.6",
      frontend: { port: 9090, host: "::1" },
    });
    const text = config.haproxy!;
    const frontend = section(text, "frontend resp-trial");
    assert.equal(frontend[0], "bind [::1]:9090");
    assert.ok(frontend.includes("default_backend resp-trial-origin"));
    assert.ok(
      frontend.some((l) =>
        l.startsWith("http-response return") && l.includes("var(res.resp.seen),hex")
      ),
    );
    assert.deepEqual(section(text, "backend resp-trial-origin"), [
      "server origin abns@resp-trial-origin-9090",
    ]);
    assert.deepEqual(section(text, "frontend resp-trial-origin-server"), [
      "bind abns@resp-trial-origin-9090",
      "http-request return status 200",
    ]);
    // HAProxy 3.3+ refuses a frontend and a backend of the same name.
    const names = text.split("\n").filter((l) => /^(frontend|backend) /.test(l)).map((l) =>
      l.split(" ")[1]
    );
    assert.equal(new Set(names).size, names.length);
  });

  test("the generated haproxy.cfg passes the checks it is generated with", () => {
    const agent = new Agent().on(getIpReputation, () => {});
    for (const haproxy of ["2.6", "3.0", "3.2", "3.4"]) {
      const config = generateConfig(iprep, { haproxy, agent, frontend: { port: 8080 } });
      assert.deepEqual(checkConfig(iprep, { haproxy, agent, haproxyConfig: config.haproxy }), []);
    }
  });

  test("responses: other statuses before the 200, with the same variables", () => {
    const condition = "if { var(sess.iprep.ip_score) -m int lt 20 }";
    const config = generateConfig(iprep, {
      haproxy: "3.2",
      frontend: { port: 8080, responses: [{ status: 403, condition }] },
    });
    const rules = section(config.haproxy!, "frontend iprep-trial").filter((l) =>
      l.startsWith("http-request return")
    );
    assert.equal(rules.length, 2);
    assert.match(rules[0], /^http-request return status 403 .*ip_score\)\]\\n.*" if \{ var/);
    assert.ok(rules[0].endsWith(` ${condition}`));
    assert.equal(rules[1].replace(" 200 ", " 403 "), rules[0].slice(0, -condition.length - 1));
    for (
      const response of [
        { status: 99, condition },
        { status: 403, condition: "var(x)" },
        { status: 403, condition: "if x\nif y" },
      ]
    ) {
      assert.throws(
        () =>
          generateConfig(iprep, {
            haproxy: "3.2",
            frontend: { port: 8080, responses: [response] },
          }),
        RangeError,
      );
    }
  });

  test("responses of a configuration that goes through the origin are http-response rules", () => {
    const late = defineMessage({ name: "late", args: { st: "status" }, event: "on-http-response" });
    const engine = defineEngine({ name: "resp", messages: [late] });
    const config = generateConfig(engine, {
      haproxy: "3.2",
      frontend: { port: 8080, responses: [{ status: 401, condition: "unless { always_true }" }] },
    });
    const rules = section(config.haproxy!, "frontend resp-trial").filter((l) =>
      l.includes(" return ")
    );
    assert.deepEqual(rules.map((l) => l.split(" ").slice(0, 4).join(" ")), [
      "http-response return status 401",
      "http-response return status 200",
    ]);
  });

  test("a backend name the trial proxies would clash with is refused", () => {
    assert.throws(
      () =>
        generateConfig(iprep, {
          haproxy: "3.2",
          backend: "iprep-trial-origin",
          frontend: { port: 1 },
        }),
      RangeError,
    );
  });
});

test("generateConfig() refuses what HAProxy would reject, listing every error", () => {
  const bad = defineEngine({
    name: "bad",
    varPrefix: "a-b",
    messages: [
      defineMessage({ name: "m", args: { x: "src" }, event: "on-frontend-request" as never }),
    ],
  });
  assert.throws(() => generateConfig(bad, { haproxy: "3.2" }), (error: unknown) => {
    assert.ok(error instanceof SpoeConfigError);
    assert.deepEqual(error.findings.map((f) => f.code).sort(), [
      "invalid-var-prefix",
      "unknown-event",
    ]);
    assert.match(error.message, /2 problems/);
    return true;
  });
});
