// The command line of the examples: the listen address, their own options and --print-config DIR
// [--haproxy VERSION] [--frontend PORT], and what writeConfig() puts in DIR.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "../../mod.ts";
import { parseCommandLine, writeConfig } from "../../examples/_cli.ts";
import type { HaproxyVersion } from "../../src/config/mod.ts";
import { defineEngine, defineMessage } from "../../src/config/mod.ts";

describe("parseCommandLine()", () => {
  test("an address alone listens", () => {
    assert.deepEqual(parseCommandLine(["127.0.0.1:9000"]), {
      address: "127.0.0.1:9000",
      printConfig: undefined,
      metrics: undefined,
      options: {},
    });
    assert.deepEqual(parseCommandLine([]), {
      address: undefined,
      printConfig: undefined,
      metrics: undefined,
      options: {},
    });
  });

  test("--metrics HOST:PORT serves the metrics there; a socket path is refused", () => {
    assert.deepEqual(parseCommandLine(["--metrics", "0.0.0.0:9100", ":12345"]), {
      address: ":12345",
      printConfig: undefined,
      metrics: { hostname: "0.0.0.0", port: 9100 },
      options: {},
    });
    assert.deepEqual(parseCommandLine(["--metrics=[::1]:0"]).metrics, { hostname: "::1", port: 0 });
    assert.throws(() => parseCommandLine(["--metrics", "/tmp/m.sock"]), TypeError);
  });

  test("--print-config with its defaults, and flags in any order or with =", () => {
    assert.deepEqual(parseCommandLine(["--print-config", "out"]).printConfig, {
      dir: "out",
      haproxy: "3.2",
      frontendPort: 8080,
    });
    assert.deepEqual(
      parseCommandLine(["--frontend=9000", "/run/a.sock", "--haproxy", "2.6", "--print-config=o"]),
      {
        address: "/run/a.sock",
        printConfig: { dir: "o", haproxy: "2.6", frontendPort: 9000 },
        metrics: undefined,
        options: {},
      },
    );
  });

  test("the example's own options, with or without --print-config", () => {
    const own = { key: "FILE", "jwks-timeout": "MS" };
    assert.deepEqual(parseCommandLine([":9000", "--key", "k.json", "--jwks-timeout=300"], own), {
      address: ":9000",
      printConfig: undefined,
      metrics: undefined,
      options: { key: "k.json", "jwks-timeout": "300" },
    });
    assert.deepEqual(
      parseCommandLine(["--print-config", "o", "--key", "k.json"], own).options,
      { key: "k.json" },
    );
    assert.throws(() => parseCommandLine(["--key"], own), /--key needs a value/);
    assert.throws(
      () => parseCommandLine(["--jwks", "u"], own),
      /Unknown option --jwks; usage: .* \[--key FILE\] \[--jwks-timeout MS\]/,
    );
  });

  test("a switch among the example's own options takes no value", () => {
    const own = { limit: "N", "fail-closed": "" };
    assert.deepEqual(parseCommandLine(["--fail-closed", "h:1", "--limit", "5"], own), {
      address: "h:1",
      printConfig: undefined,
      metrics: undefined,
      options: { "fail-closed": "true", limit: "5" },
    });
    assert.deepEqual(parseCommandLine(["--limit=7"], own).options, { limit: "7" });
    assert.throws(
      () => parseCommandLine(["--fail-closed=yes"], own),
      /--fail-closed takes no value/,
    );
    assert.throws(
      () => parseCommandLine(["--bogus"], own),
      /usage: EXAMPLE \[HOST:PORT \| SOCKET_PATH\] \[--metrics HOST:PORT\] \[--limit N\] \[--fail-closed\] /,
    );
  });

  test("with --print-config, every address given is a server", () => {
    assert.deepEqual(parseCommandLine(["a:1", "--print-config", "o", "/run/b.sock"]).printConfig, {
      dir: "o",
      haproxy: "3.2",
      frontendPort: 8080,
      servers: ["a:1", "/run/b.sock"],
    });
  });

  test("unknown flags, missing values, bad ports and stray flags are errors", () => {
    for (
      const args of [
        ["--bogus"],
        ["--print-config"],
        ["--print-config", "o", "--frontend", "99999"],
        ["--haproxy", "3.2"],
        ["a:1", "b:2"],
      ]
    ) {
      assert.throws(() => parseCommandLine(args), TypeError, args.join(" "));
    }
  });
});

test("writeConfig() writes haproxy.cfg and the SPOE file, named by absolute path", async () => {
  const message = defineMessage({ name: "m", args: { ip: "src" }, event: "on-client-session" });
  const engine = defineEngine({ name: "demo", messages: [message] });
  const agent = new Agent().on(message, () => {});
  const dir = await mkdtemp(join(tmpdir(), "spoa-cli-"));
  try {
    const { files, warnings } = await writeConfig(
      engine,
      agent,
      { dir: join(dir, "out"), haproxy: "3.0", frontendPort: 8181 },
      "127.0.0.1:7000",
    );
    assert.deepEqual(files, [join(dir, "out/haproxy.cfg"), join(dir, "out/demo-spoe.conf")]);
    assert.deepEqual(warnings, []);
    const cfg = await readFile(files[0], "utf8");
    assert.ok(cfg.includes(`filter spoe engine demo config ${files[1]}\n`));
    assert.ok(cfg.includes("bind 127.0.0.1:8181\n"));
    assert.ok(cfg.includes("server agent1 127.0.0.1:7000 check"));
    assert.ok(cfg.includes("mode tcp\n"));
    assert.match(await readFile(files[1], "utf8"), /^spoe-message m$/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("writeConfig() adds what the example gives, made for the target version", async () => {
  const message = defineMessage({
    name: "m",
    args: { b: "req.body" },
    event: "on-frontend-http-request",
  });
  const engine = defineEngine({ name: "demo", messages: [message] });
  const agent = new Agent().on(message, () => {});
  const seen: boolean[] = [];
  const extra = (haproxy: HaproxyVersion) => {
    seen.push(haproxy.mux);
    return {
      bufsize: 32768,
      maxFrameSize: haproxy.mux ? undefined : 8192,
      responses: [{ status: 403, condition: "if { var(txn.demo.block) -m bool }" }],
    };
  };
  const dir = await mkdtemp(join(tmpdir(), "spoa-cli-"));
  try {
    for (const haproxy of ["2.6", "3.2"]) {
      const out = join(dir, haproxy);
      const { files } = await writeConfig(
        engine,
        agent,
        { dir: out, haproxy, frontendPort: 8181 },
        "127.0.0.1:7000",
        extra,
      );
      const cfg = await readFile(files[0], "utf8");
      const spoe = await readFile(files[1], "utf8");
      assert.ok(cfg.includes("    tune.bufsize 32768\n"));
      assert.match(cfg, /return status 403 .* if \{ var\(txn\.demo\.block\) -m bool \}\n/);
      assert.equal(spoe.includes("    max-frame-size 8192\n"), haproxy === "2.6");
    }
    assert.deepEqual(seen, [false, true]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("writeConfig() writes one server line per address of the request", async () => {
  const message = defineMessage({ name: "m", args: { ip: "src" }, event: "on-client-session" });
  const engine = defineEngine({ name: "demo", messages: [message] });
  const agent = new Agent().on(message, () => {});
  const dir = await mkdtemp(join(tmpdir(), "spoa-cli-"));
  try {
    const { files } = await writeConfig(engine, agent, {
      dir,
      haproxy: "3.2",
      frontendPort: 8181,
      servers: ["127.0.0.1:7001", "/run/a2.sock"],
    });
    const cfg = await readFile(files[0], "utf8");
    assert.match(cfg, /^ {4}balance roundrobin$/m);
    assert.match(cfg, /^ {4}server agent1 127\.0\.0\.1:7001 check inter 2s$/m);
    assert.match(cfg, /^ {4}server agent2 unix@\/run\/a2\.sock check inter 2s$/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
