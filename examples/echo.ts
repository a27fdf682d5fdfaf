/**
 * The echo agent: for every message and every named argument, it sets a `txn`
 * variable of the same name, type and value, and logs what arrived. It is the
 * tool to see exactly what HAProxy sends, and how the values come back.
 *
 * Run it (address: `HOST:PORT` or a Unix socket path; default 127.0.0.1:12345):
 *
 *     deno run --allow-net examples/echo.ts 127.0.0.1:12345
 *     bun run examples/echo.ts 127.0.0.1:12345
 *     node examples/echo.ts 127.0.0.1:12345      # Node 24
 *
 * With `option var-prefix echo`, an argument `ua=req.hdr(user-agent)` comes
 * back as `txn.echo.ua`. Arguments without a name, or whose name HAProxy would
 * not accept for a variable, are logged only.
 *
 * `--print-config DIR [--haproxy VERSION] [--frontend PORT]` writes its
 * haproxy.cfg and SPOE file into DIR instead (Deno: `--allow-write`).
 *
 * @module
 */

import { Agent, dataTypeName, type NamedValue } from "../mod.ts";
import { defineEngine, defineMessage, type VariableType } from "../src/config/mod.ts";
import { serve } from "./_cli.ts";

/** One value of every type HAProxy sends, and the request body. */
const echoRequest = defineMessage({
  name: "echo-request",
  args: {
    src: "src",
    method: "method",
    ua: "req.hdr(user-agent)",
    neg: "int(-42)",
    big: "int(9223372036854775807)",
    yes: "bool(1)",
    raw: "bin(deadbeef)",
    missing: "req.hdr(x-missing)",
    body: "req.body",
  },
  event: "on-frontend-http-request",
});
const echoPath = defineMessage({
  name: "echo-path",
  args: { path: "path" },
  event: "on-frontend-http-request",
});
/** Sent by `http-request send-spoe-group echo echo-group`. */
const echoGroupMessage = defineMessage({
  name: "echo-group-message",
  args: { group: "str(sent-by-group)" },
});

const TYPES: Record<string, VariableType> = {
  src: "ip",
  neg: "int",
  big: "int",
  yes: "bool",
  raw: "bin",
  body: "bin",
};

/** The engine: the agent sets a `txn` variable for each argument. */
const engine = defineEngine({
  name: "echo",
  messages: [echoRequest, echoPath],
  groups: { "echo-group": [echoGroupMessage] },
  variables: [echoRequest, echoPath, echoGroupMessage].flatMap((message) =>
    Object.keys(message.args).map((name) => ({
      scope: "txn" as const,
      name,
      type: TYPES[name] ?? "str",
    }))
  ),
});

const VARIABLE_NAME = /^[A-Za-z0-9_.]{1,56}$/;

function describe(arg: NamedValue): string {
  const value = arg.value instanceof Uint8Array
    ? `0x${Array.from(arg.value, (byte) => byte.toString(16).padStart(2, "0")).join("")}`
    : typeof arg.value === "string"
    ? JSON.stringify(arg.value)
    : String(arg.value);
  return `${arg.name || "(nameless)"}=${dataTypeName(arg.type)}:${value}`;
}

const agent = new Agent();
agent.onNotify((messages, context) => {
  for (const message of messages) {
    console.log(
      `NOTIFY ${context.streamId}/${context.frameId} ${message.name}: ` +
        message.args.map(describe).join(" "),
    );
    for (const arg of message) {
      if (VARIABLE_NAME.test(arg.name)) context.setVar("txn", arg.name, arg);
    }
  }
});
await serve(agent, engine, "echo agent");
