// Mutual TLS through real HAProxy 3.2: the agent listens with TLS and a CA for client
// certificates; a backend whose server line presents `crt` (signed by that CA) with `ca-file` and
// `verify required` gets answers and passes `option spop-check`; a backend without a client
// certificate is refused by the agent, so its requests end with set-on-error and no variable.
// Every runtime. Run: node_modules/.bin/node --test tests/e2e/tls.e2e.ts
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  ALLOW_SKIP,
  missingFor,
  REPO,
  type Runtime,
  runtimeBin,
  RUNTIMES,
  VERSIONS,
} from "./_env.ts";
import { startHaproxy } from "./_haproxy.ts";
import { freePorts, parseKv, request, tcpListening } from "./_net.ts";
import { Proc, waitFor } from "./_proc.ts";
import { mutualTls } from "../adapters/_helpers.ts";

const VERSION = "3.2" as const;
const ROOT = mkdtempSync(join(tmpdir(), "spoa-e2e-tls-"));
after(() => rmSync(ROOT, { recursive: true, force: true }));

/** A CA, a server certificate and a client certificate it signed, written into `dir`. */
function certificates(dir: string): void {
  const material = mutualTls();
  writeFileSync(join(dir, "ca.pem"), material.ca);
  writeFileSync(join(dir, "server.pem"), material.server.cert);
  writeFileSync(join(dir, "server.key"), material.server.key);
  // HAProxy's crt takes the certificate and its key in one file.
  writeFileSync(join(dir, "client-bundle.pem"), material.client.cert + material.client.key);
}

function agentCommand(runtime: Runtime, address: string): string[] {
  const file = join(REPO, "tests/e2e/_tls_agent.ts");
  switch (runtime) {
    case "deno":
      return [runtimeBin("deno"), "run", "-A", file, address];
    case "bun":
      return [runtimeBin("bun"), "run", file, address];
    case "node":
      return [runtimeBin("node"), file, address];
  }
}

function configs(dir: string, ports: { ready: number; ok: number; none: number; agent: number }) {
  const spoe = join(dir, "spoe.conf");
  writeFileSync(
    spoe,
    ["ok", "none"].map((engine) =>
      `[${engine}]
spoe-agent ${engine}-agent
    messages check
    option var-prefix ${engine}
    option set-on-error err
    timeout processing 2s
    use-backend agents-${engine}

spoe-message check
    args ip=req.hdr_ip(x-real-ip)
    event on-frontend-http-request
`
    ).join("\n"),
  );
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(
    cfg,
    `global
    log stderr format short local0 info

defaults
    mode http
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend ready
    bind 127.0.0.1:${ports.ready}
    http-request return status 200 content-type text/plain string ready

frontend ok
    bind 127.0.0.1:${ports.ok}
    filter spoe engine ok config ${spoe}
    http-request return status 200 content-type text/plain lf-string "score=%[var(sess.ok.ip_score)]\\nerr=%[var(txn.ok.err)]\\n"

frontend none
    bind 127.0.0.1:${ports.none}
    filter spoe engine none config ${spoe}
    http-request return status 200 content-type text/plain lf-string "score=%[var(sess.none.ip_score)]\\nerr=%[var(txn.none.err)]\\n"

backend agents-ok
    mode spop
    option spop-check
    server agent 127.0.0.1:${ports.agent} check inter 300 ssl crt ${dir}/client-bundle.pem ca-file ${dir}/ca.pem verify required

backend agents-none
    mode spop
    server agent 127.0.0.1:${ports.agent} ssl ca-file ${dir}/ca.pem verify required
`,
  );
  return cfg;
}

const missing = RUNTIMES.map((runtime) => missingFor(VERSION, runtime)).find((m) => m);
const name = `mutual TLS through HAProxy ${VERSION}`;
if (!VERSIONS.includes(VERSION)) {
  // The version was deselected (SPOA_E2E_VERSIONS): nothing to run.
} else if (missing && ALLOW_SKIP) {
  describe(name, { skip: missing }, () => {});
} else {
  describe(name, () => {
    for (const runtime of RUNTIMES) {
      test(`${runtime}: a client certificate signed by the agent's CA is served; none is refused`, async () => {
        if (missing) throw new Error(`missing binary: ${missing}`);
        const dir = mkdtempSync(join(ROOT, `${runtime}-`));
        certificates(dir);
        const [ready, ok, none, port] = await freePorts(4);
        const cfg = configs(dir, { ready, ok, none, agent: port });
        const [cmd, ...args] = agentCommand(runtime, `127.0.0.1:${port}`);
        const agent = new Proc(`tls agent (${runtime})`, cmd, args, { env: { SPOA_TLS_DIR: dir } });
        let haproxy: Proc | undefined;
        try {
          await waitFor(`the ${runtime} agent to listen`, 20_000, () => {
            if (!agent.running) throw new Error(`agent exited:\n${agent.tail(30)}`);
            return tcpListening(port);
          }, 25);
          haproxy = await startHaproxy(VERSION, cfg, ready);
          // The health check (spop-check) over mutual TLS marks the agent UP.
          const answer = async (port: number) =>
            parseKv(
              (await request({ port, path: "/", headers: { "x-real-ip": "192.0.2.7" } })).body,
            );
          await waitFor("the mutual-TLS path to answer", 10_000, async () => {
            return (await answer(ok)).score === "7";
          }, 100).catch((error) => {
            throw new Error(`${error.message}\n${haproxy?.tail(30)}\n${agent.tail(30)}`);
          });
          for (let i = 0; i < 5; i++) assert.deepEqual(await answer(ok), { score: "7", err: "" });
          const refused = await answer(none);
          assert.equal(refused.score, "", "no variable without a client certificate");
          assert.match(refused.err, /^\d+$/, `set-on-error shows the failure (${refused.err})`);
          assert.notEqual(refused.err, "0");
          // The refusal did not disturb the agent.
          assert.deepEqual(await answer(ok), { score: "7", err: "" });
          assert.ok(agent.running, "the agent is still running");
        } finally {
          await haproxy?.stop();
          await agent.stop();
        }
      });
    }
  });
}
