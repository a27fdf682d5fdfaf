/**
 * A deliberately wrong benchmark agent, the negative control of the
 * benchmarks' answer checks: it answers every `get-ip-reputation` (and
 * `-async`) with `ip_score` = 7 whatever the address, the way a broken agent
 * could still look fast. Every benchmark run against it must fail; see
 * bench/controls.ts.
 *
 *   bun bench/wrong_agent.ts [HOST:PORT]        (same command line as bench/agent.ts)
 *
 * @module
 */

import type { Agent } from "../mod.ts";
import { ASYNC_MESSAGE, MESSAGE, SCORE_VAR } from "./_shape.ts";
import { isMainModule, serve } from "./_serve.ts";

/** Registers handlers that always answer 7. */
export function register(agent: Agent): void {
  agent.on(MESSAGE, (_message, context) => {
    context.setVar("sess", SCORE_VAR, 7);
  });
  agent.on(ASYNC_MESSAGE, (_message, context) => {
    context.setVar("sess", SCORE_VAR, 7);
  });
}

if (isMainModule(import.meta)) await serve(register);
