/**
 * A request-body inspector: HAProxy buffers each request body
 * (`option http-buffer-request`) and sends it as BINARY in the message
 * `inspect-body`; the agent looks for SQL injection and path traversal
 * (examples/body_patterns.ts) and answers with `txn.inspect.block` (a
 * boolean), `txn.inspect.reason` (`sql-injection` or `path-traversal`),
 * `txn.inspect.inspected` (the bytes it saw) and `txn.inspect.truncated`
 * (the body was larger than HAProxy's buffer, so only its start was seen).
 * The configuration denies with 403 when `block` is true.
 *
 * Bodies up to 64 KiB: the generated configuration raises HAProxy's
 * `tune.bufsize` to 65536, so a buffered body holds up to 64 KiB less
 * `tune.maxrewrite` (1 KiB) and the headers. HAProxy 3.1+ never fragments:
 * each body travels in one frame of up to 65532 bytes (bufsize − 4, which is
 * also the agent's `maxFrameSize`). HAProxy 2.6/3.0 fragment a NOTIFY larger
 * than the spoe-agent's `max-frame-size`: the configuration keeps their
 * frames at 16380 bytes, so a large body comes in fragments that the agent
 * reassembles. HAProxy announces that size itself, so both sides agree from
 * the first NOTIFY on.
 *
 * Run it (address: `HOST:PORT` or a Unix socket path; default 127.0.0.1:12345):
 *
 *     deno run --allow-net examples/body_inspect.ts 127.0.0.1:12345
 *     bun run examples/body_inspect.ts 127.0.0.1:12345
 *     node examples/body_inspect.ts 127.0.0.1:12345      # Node 24
 *
 * `--print-config DIR [--haproxy VERSION] [--frontend PORT]` writes its
 * haproxy.cfg and SPOE file into DIR instead (Deno: `--allow-write`).
 *
 * @module
 */

import { Agent } from "../mod.ts";
import { defineEngine, defineMessage, variableName } from "../src/config/mod.ts";
import { findAttack } from "./body_patterns.ts";
import { serve } from "./_cli.ts";

/** HAProxy's `tune.bufsize` in the generated configuration. */
const BUFSIZE = 65_536;
/** The spoe-agent's `max-frame-size` for 2.6/3.0, which then fragment larger NOTIFYs. */
const LEGACY_FRAME_SIZE = 16_380;

/** Sent for each request with a body: the buffered body and its announced size. */
const inspectBody = defineMessage({
  name: "inspect-body",
  args: { body: "req.body", size: "req.body_size" },
  event: "on-frontend-http-request",
  condition: "if { req.body_size gt 0 }",
});

/** The engine: `--print-config` generates its SPOE file and haproxy.cfg. */
const engine = defineEngine({
  name: "inspect",
  messages: [inspectBody],
  variables: [
    { scope: "txn", name: "block", type: "bool" },
    { scope: "txn", name: "reason" },
    { scope: "txn", name: "inspected", type: "int" },
    { scope: "txn", name: "truncated", type: "bool" },
  ],
});

// maxFrameSize: the agent takes frames as large as HAProxy 3.1+ sends with BUFSIZE.
const agent = new Agent({ processingTimeout: 1000, maxFrameSize: BUFSIZE - 4 });
agent.on(inspectBody, (message, context) => {
  const body = message.get("body");
  const size = message.get("size");
  if (!(body instanceof Uint8Array)) return;
  const attack = findAttack(body);
  context.setVar("txn", "block", attack !== undefined);
  if (attack !== undefined) context.setVar("txn", "reason", attack);
  context.setVar("txn", "inspected", body.length);
  context.setVar("txn", "truncated", typeof size === "number" && size > body.length);
});

const block = variableName(engine, { scope: "txn", name: "block" });
await serve(agent, engine, "body_inspect agent", {
  config: (haproxy) => ({
    bufsize: BUFSIZE,
    maxFrameSize: haproxy.mux ? undefined : LEGACY_FRAME_SIZE,
    responses: [{ status: 403, condition: `if { var(${block}) -m bool }` }],
  }),
});
