/**
 * The benchmark agent: message `get-ip-reputation`, argument `ip` → session
 * variable `ip_score` = the last byte of the address, as an integer. The same
 * answer to `get-ip-reputation-async`, from a handler that first awaits one
 * already-resolved promise (the async shape of bench/shapes.ts).
 *
 * Runs on Deno, Bun and Node 24:
 *
 *   deno run -A bench/agent.ts [HOST:PORT]
 *   bun bench/agent.ts [HOST:PORT]
 *   node bench/agent.ts [HOST:PORT]
 *
 * See bench/_serve.ts for the ready line and signals. Imported, it only
 * exports {@linkcode register} (bench/engine_bench.ts uses it in-process).
 *
 * @module
 */

import { type Agent, Ipv4Address, Ipv6Address, type Message, type NotifyContext } from "../mod.ts";
import { ASYNC_MESSAGE, MESSAGE, SCORE_VAR } from "./_shape.ts";
import { isMainModule, serve } from "./_serve.ts";

function score(message: Message, context: NotifyContext): void {
  const ip = message.get("ip");
  if (ip instanceof Ipv4Address) context.setVar("sess", SCORE_VAR, ip.bytes[3]);
  else if (ip instanceof Ipv6Address) context.setVar("sess", SCORE_VAR, ip.bytes[15]);
}

const RESOLVED = Promise.resolve();

/** Registers the benchmark handlers, sync and async. */
export function register(agent: Agent): void {
  agent.on(MESSAGE, score);
  agent.on(ASYNC_MESSAGE, async (message, context) => {
    await RESOLVED;
    score(message, context);
  });
}

if (isMainModule(import.meta)) await serve(register);
