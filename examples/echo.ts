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
 * @module
 */

import { Agent, dataTypeName, type NamedValue } from "../mod.ts";
import { closeOnSignals, parseAddress, scriptArgs } from "./_cli.ts";

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
const server = await agent.listen(parseAddress(scriptArgs()[0]));
console.log("echo agent listening on", JSON.stringify(server.address));
closeOnSignals(server);
