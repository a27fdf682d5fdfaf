/**
 * The command line of the benchmark agents (bench/agent.ts, bench/wrong_agent.ts):
 * listen on `HOST:PORT` (first argument, default 127.0.0.1:12345) with a silent
 * logger, print one JSON line `{"ready":true,"pid":…,"runtime":…,"address":…}` on
 * stdout once listening, and exit cleanly on SIGINT/SIGTERM. Runs on Deno, Bun
 * and Node 24.
 *
 * @module
 */

import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Agent, type AgentServer, type ListenOptions, silentLogger } from "../mod.ts";

interface NodeProcess {
  argv: string[];
  pid: number;
  on(signal: string, listener: () => void): void;
  exit(code?: number): never;
}

/** The runtime running the benchmark: `"deno"`, `"bun"` or `"node"`. */
export function benchRuntime(): "deno" | "bun" | "node" {
  return "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
}

/**
 * Whether the module whose `import.meta` this is was run as the program rather
 * than imported. `import.meta.main` where the runtime has it; Node 20 and 22
 * (the compiled package, scripts/npm_rss.sh) do not, so there the module's path
 * is compared with the script Node was given.
 */
export function isMainModule(meta: ImportMeta): boolean {
  const main = (meta as { main?: boolean }).main;
  if (typeof main === "boolean") return main;
  const script = (globalThis as { process?: NodeProcess }).process?.argv[1];
  return script !== undefined && fileURLToPath(meta.url) === realpathSync(script);
}

/**
 * Builds an agent with `register`'s handlers and serves it until SIGINT/SIGTERM,
 * with `agent.listen()` or the adapter `listen` given.
 */
export async function serve(
  register: (agent: Agent) => void,
  listen: (agent: Agent, options: ListenOptions) => Promise<AgentServer> = (agent, options) =>
    agent.listen(options),
): Promise<void> {
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  const nodeProcess = (globalThis as { process?: NodeProcess }).process;

  const args = deno ? deno.args : nodeProcess!.argv.slice(2);
  const target = args[0] ?? "127.0.0.1:12345";
  const colon = target.lastIndexOf(":");
  if (colon < 0) throw new Error(`Expected HOST:PORT, got "${target}"`);
  const hostname = target.slice(0, colon).replace(/^\[|\]$/g, "") || "127.0.0.1";
  const port = Number(target.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`Bad port in "${target}"`);
  }

  const agent = new Agent({ logger: silentLogger });
  register(agent);
  const server = await listen(agent, { hostname, port });
  const pid = deno ? deno.pid : nodeProcess!.pid;
  console.log(
    JSON.stringify({ ready: true, pid, runtime: benchRuntime(), address: server.address }),
  );

  const exit = (code: number) => deno ? deno.exit(code) : nodeProcess!.exit(code);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Bounded: a connection that does not drain within a second is closed anyway.
    const force = setTimeout(() => exit(0), 1000);
    server.close().then(() => {
      clearTimeout(force);
      exit(0);
    }, () => exit(1));
  };
  if (deno) {
    deno.addSignalListener("SIGINT", stop);
    deno.addSignalListener("SIGTERM", stop);
  } else {
    nodeProcess!.on("SIGINT", stop);
    nodeProcess!.on("SIGTERM", stop);
  }
}
