/**
 * The benchmark agent: message `get-ip-reputation`, argument `ip` → session
 * variable `ip_score` = the last byte of the address, as an integer.
 *
 * Runs on Deno, Bun and Node 24:
 *
 *   deno run -A bench/agent.ts [HOST:PORT]
 *   bun bench/agent.ts [HOST:PORT]
 *   node bench/agent.ts [HOST:PORT]
 *
 * Listens on HOST:PORT (default 127.0.0.1:12345) with a silent logger, prints
 * one JSON line `{"ready":true,"pid":…,"runtime":…,"address":…}` on stdout once
 * listening, and exits cleanly on SIGINT/SIGTERM.
 *
 * @module
 */

import { Agent, Ipv4Address, Ipv6Address, silentLogger } from "../mod.ts";
import { detectRuntime } from "../src/adapters/listen.ts";

interface NodeProcess {
  argv: string[];
  pid: number;
  on(signal: string, listener: () => void): void;
  exit(code?: number): never;
}

const deno = (globalThis as { Deno?: typeof Deno }).Deno;
const nodeProcess = (globalThis as { process?: NodeProcess }).process;

const args = deno ? deno.args : nodeProcess!.argv.slice(2);
const target = args[0] ?? "127.0.0.1:12345";
const colon = target.lastIndexOf(":");
if (colon < 0) throw new Error(`Expected HOST:PORT, got "${target}"`);
const hostname = target.slice(0, colon).replace(/^\[|\]$/g, "") || "127.0.0.1";
const port = Number(target.slice(colon + 1));
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Bad port in "${target}"`);

const agent = new Agent({ logger: silentLogger });
agent.on("get-ip-reputation", (message, context) => {
  const ip = message.get("ip");
  if (ip instanceof Ipv4Address) context.setVar("sess", "ip_score", ip.bytes[3]);
  else if (ip instanceof Ipv6Address) context.setVar("sess", "ip_score", ip.bytes[15]);
});

const server = await agent.listen({ hostname, port });
const pid = deno ? deno.pid : nodeProcess!.pid;
console.log(
  JSON.stringify({ ready: true, pid, runtime: detectRuntime(), address: server.address }),
);

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

function exit(code: number): void {
  if (deno) deno.exit(code);
  else nodeProcess!.exit(code);
}

if (deno) {
  deno.addSignalListener("SIGINT", stop);
  deno.addSignalListener("SIGTERM", stop);
} else {
  nodeProcess!.on("SIGINT", stop);
  nodeProcess!.on("SIGTERM", stop);
}
