/**
 * The benchmark agent (bench/agent.ts) served by the Deno adapter, with
 * `Deno.listen`, where `agent.listen()` on Deno serves through Deno's
 * `node:net`. Compared with bench/agent.ts by bench/compare.ts on Deno, it
 * measures the choice src/adapters/listen.ts explains. Deno only:
 *
 *   deno run -A bench/agent_deno_listen.ts [HOST:PORT]
 *
 * @module
 */

import { listen } from "../src/adapters/deno.ts";
import { register } from "./agent.ts";
import { isMainModule, serve } from "./_serve.ts";

if (isMainModule(import.meta)) await serve(register, listen);
