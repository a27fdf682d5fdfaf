// The agent of the "limits" cases (not an example): small limits, so that real HAProxy meets the
// agent's processing deadline and its maxInFlight shedding, and a frame damaged on its way, which
// the agent answers with AGENT-DISCONNECT status 4. Run: RUNTIME tests/e2e/_limits_agent.ts HOST:PORT
//
// Message `lim-msg` (args v, ms, s): waits `ms` milliseconds, then sets txn.<prefix>.v = v. A
// NOTIFY that misses the deadline, or arrives past maxInFlight, gets the fallback
// txn.<prefix>.fallback = true.
//
// HAProxy sends nothing an agent must reject, so the damage is done here: HAProxy connects to a
// plain TCP relay in this process, which passes every byte to the agent (listening on a port of its
// own) and back, except that in a NOTIFY carrying the STRING "CORRUPT-ME" (argument `s`, from the
// x-corrupt header) it replaces the STRING's type byte (8) by 15, a type SPOP does not have.
import * as net from "node:net";
import { Agent, setVar, stopOnSignals } from "../../mod.ts";
import { parseAddress, scriptArgs } from "../../examples/_cli.ts";
import { LIMITS } from "./_limits.ts";

const MARKER = new TextEncoder().encode("CORRUPT-ME");
const STRING_TYPE = 8;
const NO_SUCH_TYPE = 15;

/** Resolves after `ms`, or as soon as `signal` fires. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Where `MARKER` starts in `bytes`, or -1. */
function markerAt(bytes: Uint8Array): number {
  outer: for (let i = 0; i + MARKER.length <= bytes.length; i++) {
    for (let j = 0; j < MARKER.length; j++) if (bytes[i + j] !== MARKER[j]) continue outer;
    return i;
  }
  return -1;
}

/** Damages the STRING "CORRUPT-ME" in `chunk`: its type byte (then its 1-byte length) precedes it. */
function damage(chunk: Uint8Array): void {
  const at = markerAt(chunk);
  if (at < 2) return;
  if (chunk[at - 2] !== STRING_TYPE || chunk[at - 1] !== MARKER.length) {
    console.log(`relay: "CORRUPT-ME" is not a STRING value here; left as is`);
    return;
  }
  chunk[at - 2] = NO_SUCH_TYPE;
  console.log("relay: damaged the type byte of the STRING CORRUPT-ME in a NOTIFY");
}

const agent = new Agent({
  ...LIMITS,
  // The cases count log lines: write every one, none summarised.
  logRepeatInterval: 0,
  fallbackActions: [setVar("txn", "fallback", true)],
}).on("lim-msg", async (message, context) => {
  const ms = Number(message.get("ms") ?? 0);
  if (ms > 0) await sleep(ms, context.signal);
  if (context.signal.aborted) return;
  context.setVar("txn", "v", String(message.get("v")));
});
const server = await agent.listen({ hostname: "127.0.0.1", port: 0 });
if (server.address.transport !== "tcp") throw new Error("the agent listens on TCP");
const agentPort = server.address.port;

// The relay: resets and errors on either side just end the other side (HAProxy 3.1+ resets the
// connections it closes), without a log line.
const relay = net.createServer((haproxy) => {
  const toAgent = net.connect({ host: "127.0.0.1", port: agentPort });
  haproxy.on("data", (chunk: Uint8Array) => {
    damage(chunk);
    toAgent.write(chunk);
  });
  toAgent.on("data", (chunk: Uint8Array) => haproxy.write(chunk));
  haproxy.on("end", () => toAgent.end());
  toAgent.on("end", () => haproxy.end());
  haproxy.on("error", () => toAgent.destroy());
  toAgent.on("error", () => haproxy.destroy());
  haproxy.on("close", () => toAgent.destroy());
  toAgent.on("close", () => haproxy.destroy());
});
const listenOn = parseAddress(scriptArgs()[0]);
if (listenOn.path !== undefined) throw new Error("the limits agent listens on TCP");
await new Promise<void>((resolve) =>
  relay.listen({ host: listenOn.hostname, port: listenOn.port }, resolve)
);
console.log(`limits agent on 127.0.0.1:${agentPort}, relayed from ${scriptArgs()[0]}`);
stopOnSignals(server, {
  onStop: () => {
    relay.close();
    console.log("stopped");
  },
});
