/**
 * The options shared by {@linkcode generateConfig} and {@linkcode checkConfig}:
 * the target HAProxy version, the agent, its addresses, and the timeouts.
 *
 * @module
 */

import { DEFAULT_PROCESSING_TIMEOUT } from "../engine/options.ts";
import { type HaproxyVersion, parseHaproxyVersion } from "./haproxy_version.ts";
import type { SpoeEngine } from "./define_engine.ts";

/**
 * What the generator and the checks read of an agent: its handlers, its
 * processing deadline and its largest frame. An `Agent` fits.
 */
export interface AgentLike {
  /** The message names with a handler. */
  readonly messageNames: readonly string[];
  /** Whether a whole-NOTIFY handler is registered: then every message counts as handled. */
  readonly hasNotifyHandler?: boolean;
  /**
   * The agent's options: `processingTimeout` sets HAProxy's `timeout processing`,
   * `maxFrameSize` the spoe-agent's `max-frame-size` when it is the smaller.
   */
  readonly options?: { readonly processingTimeout: number; readonly maxFrameSize?: number };
}

/** Where an agent listens: what `agent.listen()` was given, or `server.address`. */
export interface AgentAddress {
  /** The TCP host. */
  readonly hostname?: string;
  /** The TCP port. */
  readonly port?: number;
  /** A Unix socket path instead. */
  readonly path?: string;
}

/** Options of {@linkcode generateConfig} and {@linkcode checkConfig}. */
export interface ConfigOptions {
  /** The target HAProxy version: `"2.6"`, `"3.0"`, `"3.2"`, ... (2.6 or later). */
  readonly haproxy: string;
  /**
   * The agent: its handlers are checked against the declared messages, and
   * its `processingTimeout` sets `timeout processing`.
   */
  readonly agent?: AgentLike;
  /**
   * The agent's `processingTimeout` in ms, when no `agent` is given.
   *
   * @default {500}
   */
  readonly processingTimeout?: number;
  /**
   * HAProxy's `timeout processing` in ms. By default the agent's
   * `processingTimeout` plus a margin ({@linkcode haproxyProcessingTimeout}),
   * so that HAProxy gets the agent's fallback answer; a value at or below the
   * agent's is reported.
   */
  readonly timeoutProcessing?: number;
  /**
   * The agents: one `server` line each. `"HOST:PORT"`, `"[V6]:PORT"`, a Unix
   * socket path (anything with a `/`), or an address object. A wildcard host
   * (`0.0.0.0`, `::`, empty) becomes the loopback address.
   *
   * @default {["127.0.0.1:12345"]}
   */
  readonly servers?: readonly (string | AgentAddress)[];
  /** Extra text for every `server` line, such as `"ssl ca-file /etc/haproxy/agents.pem"`. */
  readonly serverOptions?: string;
  /** The agents backend's name (`use-backend`); by default `spoa-` and the engine name. */
  readonly backend?: string;
  /**
   * The SPOE file as haproxy.cfg names it (`filter spoe ... config FILE`);
   * relative paths are read from HAProxy's working directory. By default the
   * engine name and `-spoe.conf`.
   */
  readonly spoeFile?: string;
  /**
   * The agents backend's `timeout connect`, in ms.
   *
   * @default {2000}
   */
  readonly timeoutConnect?: number;
  /**
   * The agents backend's `timeout server`, in ms: with 3.1+ the idle time of
   * a pooled agent connection; with 2.6/3.0 keep it above `timeout idle`.
   *
   * @default {60000}
   */
  readonly timeoutServer?: number;
  /**
   * HAProxy's `tune.bufsize`, in bytes, for the `global` section: a request
   * buffered by `option http-buffer-request` holds a body of up to this size
   * less `tune.maxrewrite` (1024) and the headers, and HAProxy's frames to
   * the agent are at most this size less 4. HAProxy's default is 16384.
   */
  readonly bufsize?: number;
  /**
   * The spoe-agent's `max-frame-size`: the largest frame HAProxy announces,
   * from 256 to `bufsize` − 4. HAProxy 2.6/3.0 send a larger NOTIFY in
   * fragments, 3.1+ fail it (set-on-error 259). By default the agent's
   * `maxFrameSize` when that is below `bufsize` − 4, so that HAProxy and the
   * agent agree from the first NOTIFY on; otherwise left to HAProxy
   * (`bufsize` − 4). A value above the agent's `maxFrameSize` is reported.
   */
  readonly maxFrameSize?: number;
}

/** 2.6/3.0: `timeout hello` (connect + HELLO of a new agent connection). */
const LEGACY_TIMEOUT_HELLO = 2_000;
/** 2.6/3.0: `timeout idle`, kept at most half the backend's `timeout server` (SPOE.txt §2.5). */
const LEGACY_TIMEOUT_IDLE = 30_000;
/** HAProxy's default `tune.bufsize`. */
const DEFAULT_BUFSIZE = 16_384;
/** The `tune.bufsize` range accepted here: HAProxy keeps 1024 bytes for rewrites. */
const MIN_BUFSIZE = 2_048;
const MAX_BUFSIZE = 256 * 1024 * 1024;

/**
 * HAProxy's `timeout processing` for an agent deadline: the agent's
 * `processingTimeout` plus a margin of 10 % (at least 100 ms), so that the
 * agent's fallback ACK reaches HAProxy before HAProxy gives up on it. An
 * agent without a deadline (0) gets the margin over the Agent's default of
 * 500 ms.
 *
 * @param agentTimeout The agent's `processingTimeout`, ms.
 * @returns The `timeout processing` value, ms.
 *
 * @example
 * ```ts
 * import { haproxyProcessingTimeout } from "@spoa/agent/config";
 * console.log(haproxyProcessingTimeout(10_000), haproxyProcessingTimeout(200)); // 11000 300
 * ```
 */
export function haproxyProcessingTimeout(agentTimeout: number): number {
  const base = agentTimeout > 0 ? agentTimeout : DEFAULT_PROCESSING_TIMEOUT;
  return base + Math.max(100, Math.ceil(base / 10));
}

/** @internal The options with defaults filled in. */
export interface ResolvedConfig {
  version: HaproxyVersion;
  versionText: string;
  agentProcessingTimeout: number;
  timeoutProcessing: number;
  servers: string[];
  backend: string;
  spoeFile: string;
  timeoutConnect: number;
  timeoutServer: number;
  timeoutHello: number;
  timeoutIdle: number;
  /** `tune.bufsize` to write, if given. */
  bufsize: number | undefined;
  /** The largest `max-frame-size` HAProxy accepts: `tune.bufsize` − 4. */
  frameSizeLimit: number;
  /** The agent's `maxFrameSize`, if known. */
  agentMaxFrameSize: number | undefined;
  /** The `max-frame-size` to write, if any (otherwise HAProxy announces `frameSizeLimit`). */
  maxFrameSize: number | undefined;
}

function duration(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Invalid option ${name}: ${value} (must be a positive integer, in ms)`);
  }
  return value;
}

function byteCount(
  name: string,
  value: number | undefined,
  minimum: number,
  maximum: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    throw new RangeError(
      `Invalid option ${name}: ${value} (must be an integer from ${minimum} to ${maximum})`,
    );
  }
  return value;
}

function loopback(host: string): string {
  if (host === "" || host === "0.0.0.0") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "::1";
  return host;
}

/**
 * @internal The address of a `server` line: `host:port`, `[v6]:port` or `unix@path`.
 * @param server The agent address.
 * @returns The HAProxy address.
 */
export function serverAddress(server: string | AgentAddress): string {
  if (typeof server === "string") {
    if (server.startsWith("unix@")) return server;
    if (server.includes("/")) return `unix@${server}`;
    const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(server);
    if (!match) {
      throw new TypeError(`Invalid agent address "${server}": expected HOST:PORT or a socket path`);
    }
    return serverAddress({ hostname: match[1] ?? match[2], port: Number(match[3]) });
  }
  if (server === null || typeof server !== "object") {
    throw new TypeError(
      "Invalid agent address: expected a string or { hostname, port } / { path }",
    );
  }
  if (typeof server.path === "string") return `unix@${server.path}`;
  const port = server.port ?? 12345;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Invalid agent port ${port}`);
  }
  const host = loopback(server.hostname ?? "127.0.0.1");
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * @internal Fills in the defaults.
 * @param engine The engine.
 * @param options The options.
 * @returns The resolved options.
 */
export function resolveConfig(engine: SpoeEngine, options: ConfigOptions): ResolvedConfig {
  if (options === null || typeof options !== "object") {
    throw new TypeError("Invalid config options: expected an object with at least { haproxy }");
  }
  const version = parseHaproxyVersion(options.haproxy);
  const agentProcessingTimeout = options.agent?.options?.processingTimeout ??
    options.processingTimeout ?? DEFAULT_PROCESSING_TIMEOUT;
  if (!Number.isFinite(agentProcessingTimeout) || agentProcessingTimeout < 0) {
    throw new RangeError(`Invalid processingTimeout: ${agentProcessingTimeout}`);
  }
  const servers = options.servers ?? ["127.0.0.1:12345"];
  if (!Array.isArray(servers) || servers.length === 0) {
    throw new TypeError("Invalid option servers: give at least one agent address");
  }
  const timeoutServer = duration("timeoutServer", options.timeoutServer, 60_000);
  const bufsize = byteCount("bufsize", options.bufsize, MIN_BUFSIZE, MAX_BUFSIZE);
  const frameSizeLimit = (bufsize ?? DEFAULT_BUFSIZE) - 4;
  const agentMaxFrameSize = options.agent?.options?.maxFrameSize;
  const maxFrameSize = byteCount("maxFrameSize", options.maxFrameSize, 1, MAX_BUFSIZE) ??
    (agentMaxFrameSize !== undefined && agentMaxFrameSize < frameSizeLimit
      ? agentMaxFrameSize
      : undefined);
  return {
    version,
    versionText: `${version.major}.${version.minor}`,
    agentProcessingTimeout,
    timeoutProcessing: duration(
      "timeoutProcessing",
      options.timeoutProcessing,
      haproxyProcessingTimeout(agentProcessingTimeout),
    ),
    servers: servers.map(serverAddress),
    backend: options.backend ?? `spoa-${engine.name}`,
    spoeFile: options.spoeFile ?? `${engine.name}-spoe.conf`,
    timeoutConnect: duration("timeoutConnect", options.timeoutConnect, 2_000),
    timeoutServer,
    timeoutHello: LEGACY_TIMEOUT_HELLO,
    timeoutIdle: Math.max(1, Math.min(LEGACY_TIMEOUT_IDLE, Math.floor(timeoutServer / 2))),
    bufsize,
    frameSizeLimit,
    agentMaxFrameSize,
    maxFrameSize,
  };
}
