// The examples that do real work, each through real HAProxy with the configuration it generates
// (`--print-config`), on 2.6 and 3.2 (one of each SPOE generation) and on every runtime:
//   jwt_auth      tokens signed with keys made here (HS256 secret, RSA and P-256 pairs), some in
//                 a key file, some in a JWKS served by a local HTTP server: 200 with the subject,
//                 or 401 with the reason; the JWKS fetched once and cached, its timeout honoured.
//   body_inspect  bodies up to HAProxy's raised buffer (64 KiB): fragmented NOTIFYs on 2.6, one
//                 large frame on 3.2; attacks answered 403, clean bodies 200, a larger body
//                 reported truncated.
//   async_lookup  a local HTTP service: its answer, then the cache; a service slower than the
//                 agent's deadline gives the fallback in time and sees its request abandoned
//                 (socket closed); a service that is down gives the fallback at once.
// Run: node_modules/.bin/node --test tests/e2e/examples.e2e.ts (SPOA_E2E_VERSIONS,
// SPOA_E2E_RUNTIMES and SPOA_E2E_ALLOW_SKIP as in _env.ts).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { exportJWK, generateKeyPair, generateSecret, type JWK, SignJWT, UnsecuredJWT } from "jose";
import { isLegacy, missingFor, probeHaproxy, RUNTIMES, type Version, VERSIONS } from "./_env.ts";
import type { Example } from "./_agents.ts";
import { type PairOptions, printConfig, startPair, suite, withPair } from "./_generated.ts";
import { freePorts, parseKv, request } from "./_net.ts";
import { waitFor } from "./_proc.ts";

const LIVE: Version[] = (["2.6", "3.2"] as const).filter((v) => VERSIONS.includes(v));
const ROOT = mkdtempSync(join(tmpdir(), "spoa-e2e-examples-"));
after(() => {
  if (process.env.SPOA_E2E_KEEP !== "1") rmSync(ROOT, { recursive: true, force: true });
});

/** A local HTTP service, started in this process. */
interface Service {
  readonly port: number;
  close(): Promise<void>;
}

function startService(handler: http.RequestListener): Promise<Service> {
  const server = http.createServer(handler);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      }));
  });
}

/** Starts `example` on a free port with its generated configuration, runs `check`, stops both. */
async function runExample(
  example: Example,
  version: Version,
  runtime: (typeof RUNTIMES)[number],
  options: PairOptions,
  check: (port: number, dir: string) => Promise<void>,
  expectedLog?: RegExp,
): Promise<void> {
  const dir = join(ROOT, `${example}-${version}-${runtime}`);
  const [port, agentPort] = await freePorts(2);
  const address = `127.0.0.1:${agentPort}`;
  const pair = await startPair(
    runtime,
    version,
    example,
    address,
    port,
    dir,
    () => printConfig(runtime, example, address, dir, version, port),
    options,
  );
  await withPair(pair, () => check(port, dir), expectedLog);
}

// --- jwt_auth fixtures: keys, tokens, the key file and the JWKS server ---

const now = () => Math.floor(Date.now() / 1000);
const hsSecret = await generateSecret("HS256", { extractable: true });
const fileRsa = await generateKeyPair("RS256", { extractable: true });
const remoteEc = await generateKeyPair("ES256", { extractable: true });
const remoteRsa = await generateKeyPair("RS256", { extractable: true });
const rogue = await generateKeyPair("RS256", { extractable: true });
const publicJwk = async (
  key: Parameters<typeof exportJWK>[0],
  kid: string,
  alg: string,
): Promise<JWK> => ({
  ...(await exportJWK(key)),
  kid,
  alg,
  use: "sig",
});
const keyFile = join(ROOT, "keys.json");
writeFileSync(
  keyFile,
  JSON.stringify({
    keys: [
      { ...(await exportJWK(hsSecret)), kid: "hs-1", alg: "HS256" },
      await publicJwk(fileRsa.publicKey, "file-rsa", "RS256"),
    ],
  }),
);
const jwksBody = JSON.stringify({
  keys: [
    await publicJwk(remoteEc.publicKey, "remote-ec", "ES256"),
    await publicJwk(remoteRsa.publicKey, "remote-rsa", "RS256"),
  ],
});

function sign(
  key: Parameters<SignJWT["sign"]>[0],
  alg: string,
  kid: string,
  sub: string,
  exp = now() + 300,
): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg, kid }).setSubject(sub).setIssuedAt()
    .setExpirationTime(exp).sign(key);
}

const tokens = {
  hs256: await sign(hsSecret, "HS256", "hs-1", "alice"),
  rs256File: await sign(fileRsa.privateKey, "RS256", "file-rsa", "bob"),
  es256Remote: await sign(remoteEc.privateKey, "ES256", "remote-ec", "carol"),
  rs256Remote: await sign(remoteRsa.privateKey, "RS256", "remote-rsa", "dave"),
  expired: await sign(hsSecret, "HS256", "hs-1", "erin", now() - 60),
  wrongSignature: await sign(rogue.privateKey, "RS256", "file-rsa", "mallory"),
  unknownKid: await sign(rogue.privateKey, "RS256", "stranger", "mallory"),
  none: new UnsecuredJWT({ sub: "mallory" }).encode(),
};

/** The JWKS server: counts the key sets it served; while `hang` is set it does not answer. */
const jwks = { served: 0, hung: 0, hang: false };
const jwksService = await startService((req, res) => {
  if (req.url !== "/jwks.json") {
    res.writeHead(404).end();
  } else if (jwks.hang) {
    jwks.hung++;
    setTimeout(() => res.destroy(), 5000).unref(); // the agent gives up long before
  } else {
    jwks.served++;
    res.writeHead(200, { "content-type": "application/json" }).end(jwksBody);
  }
});
after(() => jwksService.close());

// --- async_lookup: the plan service, one per test ---

interface PlanRequest {
  key: string;
  at: number;
  /** When the agent's connection closed before the answer was written. */
  abandonedAt?: number;
}

const PLANS: Record<string, string> = { alice: "gold", bob: "silver" };
/** The service's delay for the key `slow`, far beyond the agent's 500 ms deadline. */
const SLOW_MS = 3000;

function startPlanService(requests: PlanRequest[]): Promise<Service> {
  return startService((req, res) => {
    const key = decodeURIComponent(/^\/plans\/([^/?]+)$/.exec(req.url ?? "")?.[1] ?? "");
    const seen: PlanRequest = { key, at: Date.now() };
    requests.push(seen);
    res.on("close", () => {
      if (!res.writableEnded) seen.abandonedAt = Date.now();
    });
    const answer = () => {
      if (res.destroyed) return;
      if (PLANS[key] === undefined && key !== "slow") res.writeHead(404).end();
      else {
        res.writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ plan: PLANS[key] ?? "platinum" }));
      }
    };
    if (key === "slow") setTimeout(answer, SLOW_MS).unref();
    else answer();
  });
}

for (const version of LIVE) {
  for (const runtime of RUNTIMES) {
    const missing = missingFor(version, runtime);
    const info = missing ? "" : ` (${probeHaproxy(version).info.split(" - ")[0]})`;
    suite(`examples, HAProxy ${version} × ${runtime}${info}`, missing, () => {
      test("jwt_auth: 200 with the subject for valid tokens, 401 with the reason otherwise", async () => {
        jwks.served = 0;
        jwks.hung = 0;
        jwks.hang = true;
        const options = {
          args: [
            "--key",
            keyFile,
            "--jwks",
            `http://127.0.0.1:${jwksService.port}/jwks.json`,
            "--jwks-timeout",
            "300",
          ],
          readyStatus: 401, // GET /ready carries no token
        };
        await runExample("jwt_auth", version, runtime, options, async (port) => {
          const call = async (authorization?: string) => {
            const r = await request({
              port,
              path: "/",
              headers: authorization === undefined ? {} : { authorization },
            });
            return { status: r.status, vars: parseKv(r.body), ms: r.ms };
          };
          const ok = (sub: string) => ({
            "txn.jwt.auth_ok": "1",
            "txn.jwt.auth_sub": sub,
            "txn.jwt.auth_error": "",
            "txn.jwt.error": "",
          });
          const refused = (reason: string) => ({
            "txn.jwt.auth_ok": "0",
            "txn.jwt.auth_sub": "",
            "txn.jwt.auth_error": reason,
            "txn.jwt.error": "",
          });

          // The JWKS server does not answer: the agent gives up after --jwks-timeout 300.
          const timedOut = await call(`Bearer ${tokens.es256Remote}`);
          assert.deepEqual([timedOut.status, timedOut.vars], [401, refused("jwks_timeout")]);
          assert.ok(timedOut.ms >= 250 && timedOut.ms < 2000, `answered in ${timedOut.ms} ms`);
          assert.equal(jwks.hung, 1);

          // It answers now: the key set is fetched once, then served from the cache.
          jwks.hang = false;
          const cases: [string | undefined, number, Record<string, string>][] = [
            [`Bearer ${tokens.es256Remote}`, 200, ok("carol")],
            [`Bearer ${tokens.rs256Remote}`, 200, ok("dave")],
            [`bearer ${tokens.hs256}`, 200, ok("alice")],
            [`Bearer ${tokens.rs256File}`, 200, ok("bob")],
            [`Bearer ${tokens.expired}`, 401, refused("expired")],
            [`Bearer ${tokens.wrongSignature}`, 401, refused("bad_signature")],
            [`Bearer ${tokens.unknownKid}`, 401, refused("unknown_key")],
            [`Bearer ${tokens.none}`, 401, refused("alg_not_allowed")],
            [`Bearer ${tokens.hs256.slice(0, -4)}`, 401, refused("bad_signature")],
            ["Bearer not-a-jwt", 401, refused("malformed")],
            [`Basic ${Buffer.from("alice:secret").toString("base64")}`, 401, refused("not_bearer")],
            [undefined, 401, refused("missing_token")],
          ];
          for (const [authorization, status, vars] of cases) {
            const r = await call(authorization);
            assert.deepEqual([r.status, r.vars], [status, vars], authorization ?? "no header");
          }
          // One fetch for both remote keys, none for the unknown kid (30 s cooldown).
          assert.equal(jwks.served, 1);
          assert.equal(jwks.hung, 1);
        });
      });

      test("body_inspect: bodies up to 64 KiB inspected whole, attacks 403, clean 200", async () => {
        await runExample("body_inspect", version, runtime, {}, async (port, dir) => {
          const cfg = readFileSync(join(dir, "haproxy.cfg"), "utf8");
          const spoe = readFileSync(join(dir, "inspect-spoe.conf"), "utf8");
          assert.match(cfg, /^ {4}tune\.bufsize 65536$/m);
          assert.match(cfg, /^ {4}option http-buffer-request$/m);
          // 2.6 fragments NOTIFYs past 16380 bytes; 3.2 sends up to bufsize - 4 in one frame.
          if (isLegacy(version)) assert.match(spoe, /^ {4}max-frame-size 16380$/m);
          else assert.doesNotMatch(spoe, /max-frame-size/);

          const post = async (body: string, contentType = "application/octet-stream") => {
            const r = await request({
              port,
              path: "/upload",
              body,
              headers: { "content-type": contentType },
            });
            return { status: r.status, vars: parseKv(r.body) };
          };
          const verdict = (
            block: string,
            reason: string,
            inspected: number | string,
            truncated = "0",
          ) => ({
            "txn.inspect.block": block,
            "txn.inspect.reason": reason,
            "txn.inspect.inspected": String(inspected),
            "txn.inspect.truncated": truncated,
            "txn.inspect.error": "",
          });

          // The first NOTIFY is already a large one (no 259 on 2.6: HAProxy announced 16380).
          const tail = ',"file":"../../etc/passwd"}';
          const traversal = `{"data":"${"x".repeat(60_000 - 10 - tail.length)}"${tail}`;
          assert.equal(traversal.length, 60_000);
          assert.deepEqual(await post(traversal, "application/json"), {
            status: 403,
            vars: verdict("1", "path-traversal", 60_000),
          });
          const clean = `a=${"b".repeat(63_998)}`;
          assert.deepEqual(await post(clean, "application/x-www-form-urlencoded"), {
            status: 200,
            vars: verdict("0", "", 64_000),
          });
          const sqli = `${"n=1&".repeat(15_000)}user=admin%27%20OR%201%3D1--`;
          assert.deepEqual(await post(sqli, "application/x-www-form-urlencoded"), {
            status: 403,
            vars: verdict("1", "sql-injection", sqli.length),
          });
          const name = '{"name":"O\'Brien","dir":"a/b/c"}';
          assert.deepEqual(await post(name, "application/json"), {
            status: 200,
            vars: verdict("0", "", name.length),
          });
          // Larger than the buffer: HAProxy passes what it holds (bufsize less 1 KiB, headers).
          const big = await post("z".repeat(100_000));
          const inspected = Number(big.vars["txn.inspect.inspected"]);
          assert.ok(inspected > 64_000 && inspected < 65_536 - 1024, `inspected ${inspected}`);
          assert.deepEqual(big, { status: 200, vars: verdict("0", "", inspected, "1") });
          // No body, no message.
          const get = await request({ port, path: "/" });
          assert.deepEqual([get.status, parseKv(get.body)], [200, {
            "txn.inspect.block": "",
            "txn.inspect.reason": "",
            "txn.inspect.inspected": "",
            "txn.inspect.truncated": "",
            "txn.inspect.error": "",
          }]);
        });
      });

      test("async_lookup: service, cache, slow service abandoned in time, service down", async () => {
        const requests: PlanRequest[] = [];
        const service = await startPlanService(requests);
        try {
          const options = { args: ["--service", `http://127.0.0.1:${service.port}`] };
          // The fallback for a failed lookup is logged as a warning, with fetch's error.
          const expectedLog = /lookup of a key failed, answering with the fallback/;
          await runExample("async_lookup", version, runtime, options, async (port) => {
            const call = async (key: string) => {
              const r = await request({ port, path: "/", headers: { "x-api-key": key } });
              assert.equal(r.status, 200);
              return { vars: parseKv(r.body), ms: r.ms };
            };
            const answer = (plan: string, source: string) => ({
              "txn.lookup.plan": plan,
              "txn.lookup.source": source,
              "txn.lookup.error": "",
            });

            assert.deepEqual((await call("alice")).vars, answer("gold", "service"));
            assert.deepEqual((await call("alice")).vars, answer("gold", "cache"));
            assert.deepEqual((await call("nobody")).vars, answer("none", "service"));
            assert.deepEqual(requests.map((r) => r.key), ["alice", "nobody"]);

            // Slower than the agent's 500 ms deadline: the fallback arrives before HAProxy's
            // timeout processing (600 ms; past it txn.lookup.error would be set), and the
            // lookup is aborted: the service sees the connection close, long before it answers.
            const slow = await call("slow");
            assert.deepEqual(slow.vars, answer("unknown", "fallback"));
            assert.ok(slow.ms >= 450 && slow.ms < 1500, `slow lookup answered in ${slow.ms} ms`);
            const abandoned = await waitFor(
              "the slow lookup to be abandoned",
              2000,
              () => requests.find((r) => r.key === "slow" && r.abandonedAt !== undefined),
            );
            const after = abandoned.abandonedAt! - abandoned.at;
            assert.ok(after >= 400 && after < 1500, `connection closed after ${after} ms`);

            // Down: the fallback at once, not at the deadline; cached keys still answer.
            await service.close();
            const down = await call("bob");
            assert.deepEqual(down.vars, answer("unknown", "fallback"));
            assert.ok(down.ms < 400, `answered in ${down.ms} ms with the service down`);
            assert.deepEqual((await call("alice")).vars, answer("gold", "cache"));
            assert.equal(requests.some((r) => r.key === "bob"), false);
          }, expectedLog);
        } finally {
          await service.close();
        }
      });
    });
  }
}
