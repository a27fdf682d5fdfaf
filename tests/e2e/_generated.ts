// An example with the configuration it generates: `--print-config` run to its end, then the
// agent and HAProxy started on that configuration, and stopped again whatever happens.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Agent, agentCommand, type Example } from "./_agents.ts";
import { ALLOW_SKIP, type Runtime, type Version } from "./_env.ts";
import { checkConfig, startHaproxy } from "./_haproxy.ts";
import type { Proc } from "./_proc.ts";

/** Runs `EXAMPLE ADDRESS --print-config DIR --haproxy VERSION --frontend PORT` to its end. */
export function printConfig(
  runtime: Runtime,
  example: Example,
  address: string,
  dir: string,
  version: Version,
  port: number,
): Promise<string> {
  const [cmd, ...args] = agentCommand(runtime, example, address, [
    "--print-config",
    dir,
    "--haproxy",
    version,
    "--frontend",
    String(port),
  ]);
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (error, out, err) => {
      if (error) {
        reject(new Error(`${cmd} ${args.join(" ")} failed: ${error.message}\n${out}${err}`));
      } else if (err.trim()) reject(new Error(`${example} printed on stderr:\n${err}`));
      else resolve(out);
    });
  });
}

/** Registers the suite, or fails it (or skips it loudly) when a binary is missing. */
export function suite(name: string, missing: string | undefined, body: () => void): void {
  if (missing && ALLOW_SKIP) {
    process.stderr.write(`\n!! SKIPPING ${name}: ${missing} (SPOA_E2E_ALLOW_SKIP=1)\n\n`);
    describe(name, { skip: missing }, () => {});
  } else if (missing) {
    describe(name, () => {
      test("binaries", () => {
        throw new Error(`missing binary: ${missing} (set SPOA_E2E_ALLOW_SKIP=1 to skip)`);
      });
    });
  } else describe(name, body);
}

/** An agent and the HAProxy in front of it. */
export interface Pair {
  agent: Agent;
  haproxy: Proc | undefined;
  /** The agent's and HAProxy's logs, for a failure message. */
  logs: () => string;
}

/** Options of {@linkcode startPair}. */
export interface PairOptions {
  /** The example's own options, after the address. */
  args?: readonly string[];
  /** The status of `GET /ready` that says HAProxy is up (200 by default). */
  readyStatus?: number;
}

/**
 * Starts the agent, writes the configuration for its address, checks it with `haproxy -c -V`,
 * starts HAProxy on it and waits for its trial port.
 */
export async function startPair(
  runtime: Runtime,
  version: Version,
  example: Example,
  address: string,
  port: number,
  dir: string,
  write: () => unknown,
  options: PairOptions = {},
): Promise<Pair> {
  const agent = new Agent(example, runtime, example, address, options.args);
  const readyStatus = options.readyStatus ?? 200;
  let haproxy: Proc | undefined;
  const logs = () =>
    `--- agent\n${agent.logs()}\n--- haproxy\n${haproxy?.tail(40) ?? "(not started)"}`;
  try {
    await write();
    await checkConfig(version, join(dir, "haproxy.cfg"));
    await agent.start();
    haproxy = await startHaproxy(
      version,
      join(dir, "haproxy.cfg"),
      port,
      undefined,
      (status) => status === readyStatus,
    );
    return { agent, haproxy, logs };
  } catch (e) {
    await agent.stop();
    throw new Error(`${(e as Error).message}\n${logs()}`);
  }
}

/**
 * Runs `check` on a started pair, then asserts that the agent logged no error (lines matching
 * `expected` excepted), and stops both.
 */
export async function withPair(
  pair: Pair,
  check: () => Promise<void>,
  expected?: RegExp,
): Promise<void> {
  try {
    await check();
    const problems = (pair.agent.proc?.flaggedSince() ?? []).filter((line) =>
      !expected?.test(line)
    );
    assert.deepEqual(problems, [], "the agent logged an error");
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${pair.logs()}`);
  } finally {
    await pair.haproxy?.stop();
    await pair.agent.stop();
  }
}
