/**
 * Stopping on signals, the same way on Deno, Bun and Node: the first SIGINT
 * or SIGTERM closes the servers gracefully (each answers what is in flight,
 * says AGENT-DISCONNECT and closes), then the process exits; a second signal
 * exits at once.
 *
 * @module
 */

import type { AgentServer } from "./types.ts";

/** The signals {@linkcode stopOnSignals} can handle. */
export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGQUIT";

/** Options of {@linkcode stopOnSignals}. */
export interface StopOnSignalsOptions {
  /**
   * The signals that stop the process.
   *
   * @default {["SIGINT", "SIGTERM"]}
   */
  signals?: readonly StopSignal[];
  /**
   * Exit once the servers are closed (code 0, or 1 if closing failed) and on
   * a second signal (code 1). With `false`, only the servers are closed.
   *
   * @default {true}
   */
  exit?: boolean;
  /**
   * Runs after the servers are closed, before the exit: close what else the
   * agent holds (a metrics server, a database client).
   */
  onStop?: () => void | Promise<void>;
}

interface SignalRuntime {
  Deno?: {
    addSignalListener(signal: string, handler: () => void): void;
    removeSignalListener(signal: string, handler: () => void): void;
    exit(code: number): never;
  };
  process?: {
    on(signal: string, handler: () => void): void;
    off(signal: string, handler: () => void): void;
    exit(code: number): never;
  };
}

/**
 * Closes servers gracefully on SIGINT or SIGTERM, then exits: what a service
 * manager expects. With systemd, the default `KillSignal=SIGTERM` starts the
 * graceful stop; give `TimeoutStopSec` more than the agent's
 * `shutdownTimeout` plus 2 s. In a container, `docker stop` and Kubernetes
 * send SIGTERM and kill after their grace period (10 s and 30 s by default):
 * keep `shutdownTimeout` below it.
 *
 * @param servers The servers to close.
 * @param options Which signals, whether to exit, and what to close after.
 * @returns A function that removes the signal handlers.
 *
 * @example
 * ```ts ignore
 * import { Agent, stopOnSignals } from "@spoa/agent";
 * const agent = new Agent({ shutdownTimeout: 8000 });
 * const server = await agent.listen({ port: 12345 });
 * stopOnSignals(server);
 * ```
 */
export function stopOnSignals(
  servers: AgentServer | readonly AgentServer[],
  options: StopOnSignalsOptions = {},
): () => void {
  const list = Array.isArray(servers) ? servers : [servers as AgentServer];
  const signals = options.signals ?? ["SIGINT", "SIGTERM"];
  const exit = options.exit ?? true;
  const runtime = globalThis as SignalRuntime;
  const quit = (code: number) => (runtime.Deno ?? runtime.process)?.exit(code);
  let stopping = false;
  const onSignal = () => {
    if (stopping) {
      if (exit) quit(1);
      return;
    }
    stopping = true;
    (async () => {
      let code = 0;
      try {
        await Promise.all(list.map((server) => server.close()));
        await options.onStop?.();
      } catch (error) {
        console.error("could not stop cleanly:", error);
        code = 1;
      }
      if (exit) quit(code);
    })();
  };
  for (const signal of signals) {
    if (runtime.Deno) runtime.Deno.addSignalListener(signal, onSignal);
    else runtime.process?.on(signal, onSignal);
  }
  return () => {
    for (const signal of signals) {
      if (runtime.Deno) runtime.Deno.removeSignalListener(signal, onSignal);
      else runtime.process?.off(signal, onSignal);
    }
  };
}
