// Generated configurations against real HAProxy. Every example writes its haproxy.cfg and SPOE
// file with `--print-config` for every selected HAProxy version, and `haproxy -c -V` accepts them
// without a warning (the other runtimes write byte-identical files). Then, on 2.6 and 3.2,
// ip_reputation and echo run with the configuration they wrote and a request through HAProxy gets
// the agent's variables back (the other examples: examples.e2e.ts); a declaration with a message on each of the eight events does the same through
// the trial's internal origin. Node 24 runs every case; Deno and Bun also run the live ones on 3.2.
// Run: node_modules/.bin/node --test tests/e2e/config.e2e.ts (SPOA_E2E_VERSIONS, SPOA_E2E_RUNTIMES
// and SPOA_E2E_ALLOW_SKIP as in _env.ts).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Example } from "./_agents.ts";
import { missingFor, probeHaproxy, RUNTIMES, type Version, VERSIONS } from "./_env.ts";
import { printConfig, startPair, suite, withPair } from "./_generated.ts";
import { checkConfig } from "./_haproxy.ts";
import { expectedScore } from "./_iprep.ts";
import { freePorts, parseKv, request } from "./_net.ts";
import { defineEngine, defineMessage, generateConfig, SpoeEvent } from "../../src/config/mod.ts";

/** Every example, and its engine's name (the SPOE file is `<engine>-spoe.conf`). */
const EXAMPLES: Record<Exclude<Example, "limits">, string> = {
  ip_reputation: "iprep",
  echo: "echo",
  jwt_auth: "jwt",
  body_inspect: "inspect",
  async_lookup: "lookup",
  rate_limit: "ratelimit",
};
/** One version of each SPOE generation runs live. */
const LIVE: Version[] = (["2.6", "3.2"] as const).filter((v) => VERSIONS.includes(v));
const ROOT = mkdtempSync(join(tmpdir(), "spoa-e2e-config-"));
after(() => {
  if (process.env.SPOA_E2E_KEEP !== "1") rmSync(ROOT, { recursive: true, force: true });
});

/** The generated haproxy.cfg, with the directory it names replaced, to compare runs. */
function normalized(dir: string, file: string): string {
  return readFileSync(join(dir, file), "utf8").replaceAll(dir, "DIR");
}

for (const version of VERSIONS) {
  const missing = missingFor(version, "node");
  suite(`generated configuration, HAProxy ${version}: haproxy -c`, missing, () => {
    for (const [example, engine] of Object.entries(EXAMPLES) as [Example, string][]) {
      test(`${example} --print-config --haproxy ${version} passes haproxy -c -V`, async () => {
        const dir = join(ROOT, `check-${version}-${example}`);
        const out = await printConfig("node", example, "127.0.0.1:12345", dir, version, 8080);
        assert.match(
          out,
          new RegExp(`wrote .*haproxy\\.cfg and .*-spoe\\.conf for HAProxy ${version}`),
        );
        const cfg = readFileSync(join(dir, "haproxy.cfg"), "utf8");
        assert.match(
          cfg,
          new RegExp(`^ {4}mode ${version === "2.6" || version === "3.0" ? "tcp" : "spop"}$`, "m"),
        );
        await checkConfig(version, join(dir, "haproxy.cfg"));
        for (const runtime of RUNTIMES.filter((r) => r !== "node" && !missingFor(version, r))) {
          const other = join(ROOT, `check-${version}-${example}-${runtime}`);
          await printConfig(runtime, example, "127.0.0.1:12345", other, version, 8080);
          for (const file of ["haproxy.cfg", `${engine}-spoe.conf`]) {
            assert.equal(normalized(other, file), normalized(dir, file), `${runtime} ${file}`);
          }
        }
      });
    }
  });
}

const EVENTS = Object.values(SpoeEvent);
/** One message per event; the echo agent sets txn.every.<arg> for each. */
const everyEvent = defineEngine({
  name: "every",
  messages: EVENTS.map((event) =>
    defineMessage({
      name: `m-${event}`,
      args: { [event.replaceAll("-", "_")]: "str(fired)" },
      event,
    })
  ),
  variables: EVENTS.map((event) => ({ scope: "txn" as const, name: event.replaceAll("-", "_") })),
});

for (const version of LIVE) {
  for (const runtime of RUNTIMES.filter((r) => r === "node" || version === "3.2")) {
    const missing = missingFor(version, runtime);
    const info = missing ? "" : ` (${probeHaproxy(version).info.split(" - ")[0]})`;
    suite(`generated configuration, HAProxy ${version} × ${runtime}: live${info}`, missing, () => {
      test("ip_reputation on a unix socket: the score of each source address", async () => {
        const dir = join(ROOT, `live-${version}-${runtime}-iprep`);
        mkdirSync(dir, { recursive: true });
        const address = join(dir, "agent.sock");
        const [port] = await freePorts(1);
        const pair = await startPair(
          runtime,
          version,
          "ip_reputation",
          address,
          port,
          dir,
          () => printConfig(runtime, "ip_reputation", address, dir, version, port),
        );
        await withPair(pair, async () => {
          assert.match(readFileSync(join(dir, "haproxy.cfg"), "utf8"), /server agent1 unix@\//);
          for (const source of ["127.0.0.1", "127.0.0.2", "127.0.0.9"]) {
            const r = await request({ port, localAddress: source, path: "/" });
            assert.equal(r.status, 200);
            assert.deepEqual(parseKv(r.body), {
              "sess.iprep.ip_score": String(expectedScore(source)),
              "txn.iprep.error": "",
            }, `from ${source}`);
          }
        });
      });

      test("echo over TCP: every argument, the body and the group come back", async () => {
        const dir = join(ROOT, `live-${version}-${runtime}-echo`);
        const [port, agentPort] = await freePorts(2);
        const address = `127.0.0.1:${agentPort}`;
        const pair = await startPair(
          runtime,
          version,
          "echo",
          address,
          port,
          dir,
          () => printConfig(runtime, "echo", address, dir, version, port),
        );
        await withPair(pair, async () => {
          const body = "body through option http-buffer-request";
          const r = await request({
            port,
            path: "/hello?x=1",
            body,
            headers: { "user-agent": "spoa-e2e" },
          });
          assert.equal(r.status, 200);
          assert.deepEqual(parseKv(r.body), {
            "txn.echo.src": "127.0.0.1",
            "txn.echo.method": "POST",
            "txn.echo.ua": "spoa-e2e",
            "txn.echo.neg": "-42",
            "txn.echo.big": "9223372036854775807",
            "txn.echo.yes": "1",
            "txn.echo.raw": "DEADBEEF",
            "txn.echo.missing": "",
            "txn.echo.body": Buffer.from(body).toString("hex").toUpperCase(),
            "txn.echo.path": "/hello",
            "txn.echo.group": "sent-by-group",
            "txn.echo.error": "",
          });
        });
      });

      if (runtime !== "node") return;
      test("a message on each of the eight events: all fire through the trial's origin", async () => {
        const dir = join(ROOT, `live-${version}-every`);
        const [port, agentPort] = await freePorts(2);
        const address = `127.0.0.1:${agentPort}`;
        const pair = await startPair(runtime, version, "echo", address, port, dir, () => {
          const config = generateConfig(everyEvent, {
            haproxy: version,
            servers: [address],
            spoeFile: join(dir, "every-spoe.conf"),
            frontend: { port },
          });
          assert.match(config.haproxy!, /http-response return/);
          mkdirSync(dir, { recursive: true });
          writeFileSync(join(dir, "every-spoe.conf"), config.spoe);
          writeFileSync(join(dir, "haproxy.cfg"), config.haproxy!);
        });
        await withPair(pair, async () => {
          const r = await request({ port, path: "/" });
          assert.equal(r.status, 200);
          const expected: Record<string, string> = { "txn.every.error": "" };
          for (const event of EVENTS) expected[`txn.every.${event.replaceAll("-", "_")}`] = "fired";
          assert.deepEqual(parseKv(r.body), expected);
        });
      });
    });
  }
}
