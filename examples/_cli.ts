/**
 * What the examples share: the listen address from the first argument, and a
 * clean shutdown on SIGINT/SIGTERM, on Deno, Bun and Node alike.
 *
 * @module
 */

import type { AgentServer, ListenOptions } from "../mod.ts";

interface RuntimeGlobals {
  Deno?: {
    args: string[];
    addSignalListener(signal: string, handler: () => void): void;
    exit(code: number): never;
  };
  process?: {
    argv: string[];
    on(signal: string, handler: () => void): void;
    exit(code: number): never;
  };
}

const runtime = globalThis as RuntimeGlobals;

/** The command-line arguments after the script name. */
export function scriptArgs(): string[] {
  return runtime.Deno ? runtime.Deno.args : runtime.process?.argv.slice(2) ?? [];
}

/**
 * Reads a listen address: `HOST:PORT`, `[V6]:PORT`, `:PORT`, or a Unix socket path.
 *
 * @param text The address; the default is 127.0.0.1:12345.
 * @returns Listen options.
 */
export function parseAddress(text = "127.0.0.1:12345"): ListenOptions {
  if (text.includes("/")) return { path: text };
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  if (!match) throw new TypeError(`Expected HOST:PORT or a socket path, got "${text}"`);
  return { hostname: match[1] ?? (match[2] || "0.0.0.0"), port: Number(match[3]) };
}

/**
 * Closes the server gracefully on SIGINT or SIGTERM, then exits.
 *
 * @param server The running server.
 */
export function closeOnSignals(server: AgentServer): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close().then(() => {
      console.log("stopped");
      (runtime.Deno ?? runtime.process)?.exit(0);
    });
  };
  for (const signal of ["SIGINT", "SIGTERM"]) {
    if (runtime.Deno) runtime.Deno.addSignalListener(signal, stop);
    else runtime.process?.on(signal, stop);
  }
}
