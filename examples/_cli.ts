/**
 * What the examples share: the listen address from the first argument, a
 * clean shutdown on SIGINT/SIGTERM, `--metrics HOST:PORT` (Prometheus
 * metrics at `GET /metrics`), options of their own (`--key FILE`, or a switch
 * such as `--fail-closed`), and `--print-config DIR [--haproxy VERSION]
 * [--frontend PORT]`, which writes the example's haproxy.cfg and SPOE file
 * into DIR instead of listening (one `server` line for each address given);
 * on Deno, Bun and Node alike.
 *
 * @module
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type Agent, type ListenOptions, stopOnSignals } from "../mod.ts";
import {
  generateConfig,
  type HaproxyVersion,
  parseHaproxyVersion,
  type SpoeEngine,
  type TrialResponse,
} from "../src/config/mod.ts";
import { PrometheusMetrics } from "../src/metrics/mod.ts";
import { serveMetrics } from "./_metrics_server.ts";

interface RuntimeGlobals {
  Deno?: { args: string[]; exit(code: number): never };
  process?: { argv: string[]; exit(code: number): never };
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

/** What `--print-config` asks for. */
export interface PrintConfigRequest {
  /** Where to write haproxy.cfg and the SPOE file. */
  dir: string;
  /**
   * The agents, one `server` line each, when the command line gave several
   * addresses (else the one address given).
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
  /** Where to serve `GET /metrics` (`--metrics HOST:PORT`), if given. */
  metrics: { hostname: string; port: number } | undefined;
  /**
   * The example's own options that were given, by name without the dashes
   * (`key` for `--key`): their values, `"true"` for a switch.
   */
  options: Record<string, string>;
}

/**
 * An example's own options: each name (without dashes) and what its value
 * is, for the usage; an empty value hint makes a switch, which takes no value
 * (`{ "fail-closed": "" }` for `--fail-closed`).
 */
export type OwnOptions = Readonly<Record<string, string>>;

function usage(own: OwnOptions): string {
  const extra = Object.entries(own).map(([name, value]) =>
    value === "" ? ` [--${name}]` : ` [--${name} ${value}]`
  ).join("");
  return `usage: EXAMPLE [HOST:PORT | SOCKET_PATH] [--metrics HOST:PORT]${extra} ` +
    "[--print-config DIR [--haproxy VERSION] [--frontend PORT]]";
}

/**
 * Reads an example's command line: `[ADDRESS] [--print-config DIR [--haproxy
 * VERSION] [--frontend PORT]]` and the example's own options, flags in any
 * order, `--flag=value` too. With `--print-config`, several addresses may be
 * given: one `server` line each.
 *
 * @param args The arguments after the script name.
 * @param own The example's own options: name (without dashes) → value hint.
 * @returns The address, the `--print-config` request and the example's options.
 * @throws {TypeError} For an unknown flag, a flag without its value, or a bad port.
 */
export function parseCommandLine(
  args: readonly string[] = scriptArgs(),
  own: OwnOptions = {},
): CommandLine {
  const USAGE = usage(own);
  const known = [
    "--print-config",
    "--haproxy",
    "--frontend",
    "--metrics",
    ...Object.keys(own).map((n) => `--${n}`),
  ];
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    if (!known.includes(flag)) {
      throw new TypeError(`Unknown option ${flag}; ${USAGE}`);
    }
    if (own[flag.slice(2)] === "") {
      if (eq >= 0) throw new TypeError(`${flag} takes no value; ${USAGE}`);
      flags.set(flag, "true");
      continue;
    }
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined || value === "") throw new TypeError(`${flag} needs a value; ${USAGE}`);
    flags.set(flag, value);
  }
  if (positional.length > 1 && !flags.has("--print-config")) {
    throw new TypeError(`Too many arguments; ${USAGE}`);
  }
  const options: Record<string, string> = {};
  for (const name of Object.keys(own)) {
    const value = flags.get(`--${name}`);
    if (value !== undefined) options[name] = value;
  }
  const metricsAt = flags.get("--metrics");
  let metrics: CommandLine["metrics"];
  if (metricsAt !== undefined) {
    const target = parseAddress(metricsAt);
    if (target.path !== undefined) throw new TypeError(`--metrics takes HOST:PORT; ${USAGE}`);
    metrics = { hostname: target.hostname ?? "127.0.0.1", port: target.port ?? 0 };
  }
  const dir = flags.get("--print-config");
  if (dir === undefined) {
    if (flags.has("--haproxy") || flags.has("--frontend")) {
      throw new TypeError(`--haproxy and --frontend go with --print-config`);
    }
    return { address: positional[0], printConfig: undefined, metrics, options };
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
    metrics,
    options,
  };
}

/**
 * Reads the command line like {@linkcode parseCommandLine}, for an example
 * with options of its own; a bad command line exits with status 2.
 *
 * @param own The example's own options: name (without dashes) → value hint.
 * @returns The command line.
 */
export function readCommandLine(own: OwnOptions = {}): CommandLine {
  try {
    return parseCommandLine(scriptArgs(), own);
  } catch (error) {
    return exitWithUsage((error as Error).message);
  }
}

/**
 * Prints a command-line problem and exits with status 2.
 *
 * @param message What is wrong.
 */
export function exitWithUsage(message: string): never {
  console.error(message);
  (runtime.Deno ?? runtime.process)?.exit(2);
  throw new Error(message); // not reached: exit() does not return
}

/** What an example adds to its generated configuration. */
export interface ExampleConfig {
  /** HAProxy's `tune.bufsize` (the largest body `option http-buffer-request` holds). */
  readonly bufsize?: number;
  /** The spoe-agent's `max-frame-size`. */
  readonly maxFrameSize?: number;
  /** Answers of the trial frontend other than 200, such as a 401 when a variable says so. */
  readonly responses?: readonly TrialResponse[];
}

/** {@linkcode ExampleConfig} itself, or made for the target version. */
export type ExampleConfigSource = ExampleConfig | ((haproxy: HaproxyVersion) => ExampleConfig);

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
 * @param extra What the example adds to the configuration.
 * @returns The paths written, and the warnings of the checks.
 */
export async function writeConfig(
  engine: SpoeEngine,
  agent: Agent,
  request: PrintConfigRequest,
  address = "127.0.0.1:12345",
  extra: ExampleConfigSource = {},
): Promise<{ files: string[]; warnings: string[] }> {
  const dir = resolve(request.dir);
  const spoePath = join(dir, `${engine.name}-spoe.conf`);
  const { bufsize, maxFrameSize, responses } = typeof extra === "function"
    ? extra(parseHaproxyVersion(request.haproxy))
    : extra;
  const config = generateConfig(engine, {
    haproxy: request.haproxy,
    agent,
    servers: request.servers ?? [address],
    spoeFile: spoePath,
    bufsize,
    maxFrameSize,
    frontend: { port: request.frontendPort, responses },
  });
  const cfgPath = join(dir, "haproxy.cfg");
  await mkdir(dir, { recursive: true });
  await writeFile(spoePath, config.spoe);
  await writeFile(cfgPath, config.haproxy ?? "");
  return { files: [cfgPath, spoePath], warnings: config.findings.map((f) => f.message) };
}

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  /** The command line, when the example read it first ({@linkcode readCommandLine}). */
  readonly commandLine?: CommandLine;
  /** What the example adds to its generated configuration. */
  readonly config?: ExampleConfigSource;
  /** The registry `--metrics` serves, with the example's own metrics; one is made if not given. */
  readonly metrics?: PrometheusMetrics;
}

/**
 * Runs an example: with `--print-config`, writes its configuration and
 * returns; otherwise listens on the address of the command line (and serves
 * `GET /metrics` with `--metrics`), and closes gracefully on SIGINT/SIGTERM.
 * A bad command line exits with status 2.
 *
 * @param agent The example's agent.
 * @param engine The example's engine.
 * @param label How the example names itself in its log.
 * @param options The command line if already read, what the example adds to its
 *   configuration, and its metrics registry.
 */
export async function serve(
  agent: Agent,
  engine: SpoeEngine,
  label: string,
  options: ServeOptions = {},
): Promise<void> {
  const commandLine = options.commandLine ?? readCommandLine();
  const { address, printConfig } = commandLine;
  if (printConfig) {
    const { files, warnings } = await writeConfig(
      engine,
      agent,
      printConfig,
      address,
      options.config,
    );
    for (const warning of warnings) console.error(`warning: ${warning}`);
    console.log(`${label}: wrote ${files.join(" and ")} for HAProxy ${printConfig.haproxy}`);
    return;
  }
  const server = await agent.listen(parseAddress(address));
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  if (commandLine.metrics !== undefined) {
    const registry = options.metrics ?? new PrometheusMetrics();
    registry.instrument(agent);
    const { hostname, port } = commandLine.metrics;
    metricsServer = await serveMetrics(hostname, port, () => registry.render());
    console.log(`${label} metrics on http://${hostname}:${metricsServer.port}/metrics`);
  }
  stopOnSignals(server, {
    onStop: async () => {
      await metricsServer?.close();
      console.log("stopped");
    },
  });
  console.log(`${label} listening on`, JSON.stringify(server.address));
}
