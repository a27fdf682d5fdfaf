/**
 * What scripts/fuzz.ts and scripts/soak.ts share: the target agent as a process
 * on one runtime (pinned to core 1), what it holds as /proc and its own reports
 * tell, and their command lines.
 *
 * @module
 */

import { readdirSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import { runCommand, type Runtime, RUNTIMES, type Started, startPinned } from "../bench/_lib.ts";

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** The number of file descriptors a process has open. */
export function fdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A target agent that is running. */
export interface Target {
  agent: Started;
  port: number;
  /** Whether the process has exited (it must not). */
  exited(): boolean;
}

/**
 * Starts scripts/target_agent.ts on a runtime, pinned to core 1, on a free port.
 *
 * @param runtime The runtime.
 * @param report Whether it reports its memory every second.
 */
export async function startTarget(runtime: Runtime, report = false): Promise<Target> {
  const agent = await startPinned(
    1,
    [
      ...runCommand(runtime, "scripts/target_agent.ts"),
      "127.0.0.1:0",
      ...(report ? ["--report"] : []),
    ],
    (out) => out.includes('"ready":true'),
  );
  const ready = agent.output().split("\n").find((line) => line.includes('"ready":true'))!;
  let exited = false;
  agent.child.once("exit", () => exited = true);
  return { agent, port: JSON.parse(ready).address.port, exited: () => exited };
}

/**
 * What the agent reports it holds, in MiB: its JavaScript heap, and the memory outside it that
 * JavaScript objects own (`external`: array buffers and the like).
 */
export interface Held {
  heapMib: number;
  externalMib: number;
}

/** The agent's last memory report after `from` in its output. */
export function reported(agent: Started, afterGc: boolean, from = 0): Held | undefined {
  const lines = agent.output().slice(from).split("\n").filter((line) =>
    line.includes('"memory"') && (!afterGc || line.includes('"afterGc":true'))
  );
  const last = lines.at(-1);
  if (last === undefined) return undefined;
  const { heapUsed, external } = JSON.parse(last).memory;
  return { heapMib: heapUsed / (1024 * 1024), externalMib: external / (1024 * 1024) };
}

/** What the agent holds in all, in MiB: heap and external. */
export function liveMib(held: Held): number {
  return held.heapMib + held.externalMib;
}

/** Makes the agent collect garbage (SIGUSR2); returns what it then holds. */
export async function heldAfterGc(agent: Started): Promise<Held> {
  const from = agent.output().length;
  agent.child.kill("SIGUSR2");
  for (let i = 0; i < 100; i++) {
    await sleep(20);
    const held = reported(agent, true, from);
    if (held !== undefined) return held;
  }
  throw new Error("the agent did not report its memory after SIGUSR2");
}

/**
 * Parses `--name value` options: each default's type says how (a number is checked, a boolean
 * is a flag), and `--runtime` must name a runtime. Exits with 2 and `usage` on a bad one.
 *
 * @param defaults The options and their defaults.
 * @param usage The usage text.
 * @returns The options.
 */
export function parseOptions<T extends Record<string, string | number | boolean | undefined>>(
  defaults: T,
  usage: string,
): T {
  const fail = (message: string): never => {
    console.error(`${message}\n${usage}`);
    process.exit(2);
  };
  const names = Object.keys(defaults);
  const flag = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  let parsed;
  try {
    parsed = parseArgs({
      options: Object.fromEntries(
        names.map((name) => [flag(name), {
          type: typeof defaults[name] === "boolean" ? "boolean" as const : "string" as const,
        }]),
      ),
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
  const options: Record<string, unknown> = { ...defaults };
  for (const name of names) {
    const given = parsed[flag(name)];
    if (given === undefined) continue;
    if (typeof given === "boolean" || typeof defaults[name] === "string") {
      options[name] = given;
    } else {
      const value = Number(given);
      if (!Number.isFinite(value) || value < 0) fail(`--${flag(name)} must be a number ≥ 0`);
      options[name] = value;
    }
  }
  if ("runtime" in options && !(RUNTIMES as readonly unknown[]).includes(options.runtime)) {
    fail(`unknown runtime ${options.runtime}`);
  }
  return options as T;
}
