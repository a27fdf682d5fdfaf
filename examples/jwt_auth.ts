/**
 * A JWT authentication agent: HAProxy sends the `Authorization` header of
 * each request in the message `check-jwt`; the agent verifies its bearer
 * token (HS256, RS256 or ES256, with jose) and answers with
 * `txn.jwt.auth_ok` (a boolean), `txn.jwt.auth_sub` (the token's subject)
 * and `txn.jwt.auth_error` (why a token was refused: `missing_token`,
 * `expired`, `bad_signature`, ...; see examples/jwt_keys.ts). The
 * configuration answers 401 unless `auth_ok` is true, so a request the agent
 * could not judge in time is refused too.
 *
 * The keys come from a JWKS file (`--key FILE`: public RSA and EC keys, and
 * `oct` keys for HS256), a JWKS URL (`--jwks URL`: fetched with a timeout of
 * `--jwks-timeout MS`, 1000 by default, and cached), or both: the file first.
 *
 * Run it (address: `HOST:PORT` or a Unix socket path; default 127.0.0.1:12345):
 *
 *     deno run --allow-net --allow-read examples/jwt_auth.ts 127.0.0.1:12345 --key keys.json
 *     bun run examples/jwt_auth.ts 127.0.0.1:12345 --jwks https://idp.example/jwks.json
 *     node examples/jwt_auth.ts 127.0.0.1:12345 --key keys.json      # Node 24
 *
 * `--print-config DIR [--haproxy VERSION] [--frontend PORT]` writes its
 * haproxy.cfg and SPOE file into DIR instead (Deno: `--allow-write`).
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { Agent, setVar } from "../mod.ts";
import { defineEngine, defineMessage, variableName } from "../src/config/mod.ts";
import { exitWithUsage, readCommandLine, serve } from "./_cli.ts";
import { type KeyLookup, keyLookup, parseKeyFile, verifyBearer } from "./jwt_keys.ts";

/** Sent for each request: its `Authorization` header, whole. */
const checkJwt = defineMessage({
  name: "check-jwt",
  args: { authorization: "req.fhdr(authorization)" },
  event: "on-frontend-http-request",
});

/** The engine: `--print-config` generates its SPOE file and haproxy.cfg. */
const engine = defineEngine({
  name: "jwt",
  messages: [checkJwt],
  variables: [
    { scope: "txn", name: "auth_ok", type: "bool" },
    { scope: "txn", name: "auth_sub" },
    { scope: "txn", name: "auth_error" },
  ],
});

const commandLine = readCommandLine({ key: "FILE", jwks: "URL", "jwks-timeout": "MS" });

/** The keys, read before listening (`--print-config` needs none). */
async function loadKeys(options: Record<string, string>): Promise<KeyLookup> {
  const timeout = Number(options["jwks-timeout"] ?? 1000);
  if (!Number.isInteger(timeout) || timeout <= 0) {
    exitWithUsage(`--jwks-timeout: expected milliseconds, got "${options["jwks-timeout"]}"`);
  }
  if (options.key === undefined && options.jwks === undefined) {
    exitWithUsage("jwt_auth needs --key FILE (a JWKS file), --jwks URL, or both");
  }
  return keyLookup({
    jwks: options.key === undefined ? undefined : parseKeyFile(await readFile(options.key, "utf8")),
    jwksUrl: options.jwks === undefined ? undefined : new URL(options.jwks),
    timeout,
  });
}

const lookup: KeyLookup = commandLine.printConfig
  ? () => Promise.reject(new Error("no keys with --print-config"))
  : await loadKeys(commandLine.options);

// Past the deadline (above the JWKS timeout), or if a handler fails: refused.
const agent = new Agent({
  processingTimeout: 2000,
  fallbackActions: [setVar("txn", "auth_ok", false), setVar("txn", "auth_error", "unavailable")],
});
agent.on(checkJwt, async (message, context) => {
  const verdict = await verifyBearer(message.get("authorization"), lookup);
  context.setVar("txn", "auth_ok", verdict.ok);
  if (verdict.ok && verdict.sub !== undefined) context.setVar("txn", "auth_sub", verdict.sub);
  if (!verdict.ok) context.setVar("txn", "auth_error", verdict.error);
});

const authOk = variableName(engine, { scope: "txn", name: "auth_ok" });
await serve(agent, engine, "jwt_auth agent", {
  commandLine,
  config: { responses: [{ status: 401, condition: `unless { var(${authOk}) -m bool }` }] },
});
