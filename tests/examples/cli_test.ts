// The command line of the examples: the listen address and --print-config DIR [--haproxy VERSION]
// [--frontend PORT], and what writeConfig() puts in DIR.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "../../mod.ts";
import { parseCommandLine, writeConfig } from "../../examples/_cli.ts";
import { defineEngine, defineMessage } from "../../src/config/mod.ts";

describe("parseCommandLine()", () => {
  test("an address alone listens", () => {
    assert.deepEqual(parseCommandLine(["127.0.0.1:9000"]), {
      address: "127.0.0.1:9000",
      printConfig: undefined,
      options: {},
    });
    assert.deepEqual(parseCommandLine([]), {
      address: undefined,
      printConfig: undefined,
      options: {},
    });
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
        options: {},
      },
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

  test("an example's own flags: values and switches", () => {
    const flags = { limit: "N", "fail-closed": "" };
    assert.deepEqual(parseCommandLine(["--limit", "5", "--fail-closed", "h:1"], flags), {
      address: "h:1",
      printConfig: undefined,
      options: { limit: "5", "fail-closed": "true" },
    });
    assert.deepEqual(parseCommandLine(["--limit=7", "--print-config", "o"], flags).options, {
      limit: "7",
    });
    for (const args of [["--limit"], ["--fail-closed=yes"], ["--window", "3"], ["--toString"]]) {
      assert.throws(() => parseCommandLine(args, flags), TypeError, args.join(" "));
    }
    assert.throws(() => parseCommandLine(["--limit", "5"]), /Unknown option --limit/);
    assert.throws(
      () => parseCommandLine(["--bogus"], flags),
      /usage: EXAMPLE \[HOST:PORT \| SOCKET_PATH\] \[--limit N\] \[--fail-closed\] /,
    );
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
