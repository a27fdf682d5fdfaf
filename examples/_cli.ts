/**
 * What the examples share: the listen address from the first argument, a
 * clean shutdown on SIGINT/SIGTERM, and `--print-config DIR [--haproxy
 * VERSION] [--frontend PORT]`, which writes the example's haproxy.cfg and
 * SPOE file into DIR instead of listening (for every address given: one
 * `server` line each); an example may add flags of its own. On Deno, Bun and
 * Node alike.
 *
 * @module
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Agent, AgentServer, ListenOptions } from "../mod.ts";
import { generateConfig, type SpoeEngine } from "../src/config/mod.ts";

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

/** What `--print-config` asks for. */
export interface PrintConfigRequest {
  /** Where to write haproxy.cfg and the SPOE file. */
  dir: string;
  /**
   * The agents, one `server` line each: every address of the command line
   * (none: 127.0.0.1:12345).
   */
  servers?: string[];
  /** The target HAProxy version (`--haproxy`, default 3.2). */
  haproxy: string;
  /** The port of the trial frontend (`--frontend`, default 8080). */
  frontendPort: number;
}

/** The command line of an example. */
export interface CommandLine {
  /** The listen address (the first argument that is not a flag), if given. */
  address: string | undefined;
  /** Set when `--print-config DIR` was given. */
  printConfig: PrintConfigRequest | undefined;
  /**
   * The example's own flags that were given (see {@linkcode ExampleFlags}):
   * the value of a value flag, `"true"` for a switch.
   */
  options: Record<string, string>;
}

/**
 * The flags an example adds to the shared ones, without their dashes, with
 * their usage text: `{ limit: "N" }` takes a value (`--limit 10`,
 * `--limit=10`); an empty usage makes a switch (`{ "fail-closed": "" }`).
 */
export type ExampleFlags = Readonly<Record<string, string>>;

const SHARED_FLAGS = ["--print-config", "--haproxy", "--frontend"];

function usage(exampleFlags: ExampleFlags): string {
  const own = Object.entries(exampleFlags).map(([flag, value]) =>
    value === "" ? ` [--${flag}]` : ` [--${flag} ${value}]`
  );
  return "usage: EXAMPLE [HOST:PORT | SOCKET_PATH]" + own.join("") +
    " [--print-config DIR [--haproxy VERSION] [--frontend PORT]]";
}

/**
 * Reads an example's command line: `[ADDRESS] [--print-config DIR [--haproxy
 * VERSION] [--frontend PORT]]` and the example's own flags, in any order,
 * `--flag=value` too. With `--print-config`, several addresses may be given:
 * one `server` line each.
 *
 * @param args The arguments after the script name.
 * @param exampleFlags The example's own flags.
 * @returns The address, the `--print-config` request and the example's flags.
 * @throws {TypeError} For an unknown flag, a flag without its value, or a bad port.
 */
export function parseCommandLine(
  args: readonly string[] = scriptArgs(),
  exampleFlags: ExampleFlags = {},
): CommandLine {
  const flags = new Map<string, string>();
  const options: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const own = Object.hasOwn(exampleFlags, flag.slice(2))
      ? exampleFlags[flag.slice(2)]
      : undefined;
    if (!SHARED_FLAGS.includes(flag) && own === undefined) {
      throw new TypeError(`Unknown option ${flag}; ${usage(exampleFlags)}`);
    }
    if (own === "") {
      if (eq >= 0) throw new TypeError(`${flag} takes no value; ${usage(exampleFlags)}`);
      options[flag.slice(2)] = "true";
      continue;
    }
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined || value === "") {
      throw new TypeError(`${flag} needs a value; ${usage(exampleFlags)}`);
    }
    if (own === undefined) flags.set(flag, value);
    else options[flag.slice(2)] = value;
  }
  const dir = flags.get("--print-config");
  if (dir === undefined) {
    if (positional.length > 1) throw new TypeError(`Too many arguments; ${usage(exampleFlags)}`);
    if (flags.size > 0) throw new TypeError(`--haproxy and --frontend go with --print-config`);
    return { address: positional[0], printConfig: undefined, options };
  }
  const frontendPort = Number(flags.get("--frontend") ?? 8080);
  if (!Number.isInteger(frontendPort) || frontendPort < 1 || frontendPort > 65535) {
    throw new TypeError(`--frontend: invalid port "${flags.get("--frontend")}"`);
  }
  return {
    address: positional[0],
    printConfig: {
      dir,
      haproxy: flags.get("--haproxy") ?? "3.2",
      frontendPort,
      ...(positional.length > 1 && { servers: positional }),
    },
    options,
  };
}

/**
 * Writes a complete haproxy.cfg (with the trial frontend) and the SPOE file
 * of an engine into a directory, for the agent listening at `address`. The
 * filter line names the SPOE file by its absolute path, so that
 * `haproxy -f DIR/haproxy.cfg` runs from anywhere.
 *
 * @param engine The example's engine.
 * @param agent The example's agent (its handlers are checked, its processingTimeout read).
 * @param request The directory, HAProxy version and trial port (and the agents' addresses).
 * @param address The agent's address, as given on the command line, when
 *   `request` names no servers.
 * @returns The paths written, and the warnings of the checks.
 */
export async function writeConfig(
  engine: SpoeEngine,
  agent: Agent,
  request: PrintConfigRequest,
  address = "127.0.0.1:12345",
): Promise<{ files: string[]; warnings: string[] }> {
  const dir = resolve(request.dir);
  const spoePath = join(dir, `${engine.name}-spoe.conf`);
  const config = generateConfig(engine, {
    haproxy: request.haproxy,
    agent,
    servers: request.servers ?? [address],
    spoeFile: spoePath,
    frontend: { port: request.frontendPort },
  });
  const cfgPath = join(dir, "haproxy.cfg");
  await mkdir(dir, { recursive: true });
  await writeFile(spoePath, config.spoe);
  await writeFile(cfgPath, config.haproxy ?? "");
  return { files: [cfgPath, spoePath], warnings: config.findings.map((f) => f.message) };
}

/**
 * Reads the command line of the running example, or exits with status 2 and
 * the reason when it cannot be read.
 *
 * @param exampleFlags The example's own flags.
 * @param check Reads the example's own flags further; throws a `TypeError` to reject them.
 * @returns The command line and what `check` returned.
 */
export function readCommandLine<T = undefined>(
  exampleFlags: ExampleFlags = {},
  check: (commandLine: CommandLine) => T = () => undefined as T,
): { commandLine: CommandLine; checked: T } {
  try {
    const commandLine = parseCommandLine(scriptArgs(), exampleFlags);
    return { commandLine, checked: check(commandLine) };
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    console.error(error.message);
    return (runtime.Deno ?? runtime.process)!.exit(2);
  }
}

/**
 * Runs an example: with `--print-config`, writes its configuration and
 * returns; otherwise listens on the address of the command line and closes
 * gracefully on SIGINT/SIGTERM. A bad command line exits with status 2.
 *
 * @param agent The example's agent.
 * @param engine The example's engine.
 * @param label How the example names itself in its log.
 * @param commandLine The command line, when the example read it already
 *   ({@linkcode readCommandLine}).
 */
export async function serve(
  agent: Agent,
  engine: SpoeEngine,
  label: string,
  commandLine: CommandLine = readCommandLine().commandLine,
): Promise<void> {
  const { address, printConfig } = commandLine;
  if (printConfig) {
    const { files, warnings } = await writeConfig(engine, agent, printConfig, address);
    for (const warning of warnings) console.error(`warning: ${warning}`);
    console.log(`${label}: wrote ${files.join(" and ")} for HAProxy ${printConfig.haproxy}`);
    return;
  }
  const server = await agent.listen(parseAddress(address));
  console.log(`${label} listening on`, JSON.stringify(server.address));
  closeOnSignals(server);
}
