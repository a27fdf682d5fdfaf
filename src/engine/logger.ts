/**
 * The logger interface the agent writes to, and the loggers that ship with
 * it: `console` itself fits; {@linkcode consoleLogger} filters by level;
 * {@linkcode jsonLogger} writes one JSON object per line.
 *
 * @module
 */

/**
 * The fields of a log record: what it is about. Every field is optional;
 * peer-controlled text in them is as HAProxy sent it (a JSON logger escapes
 * it; the message text itself is already escaped).
 */
export interface LogFields {
  /** The connection's number within the agent. */
  readonly connection?: number;
  /** The address of HAProxy's end. */
  readonly peer?: string;
  /** HAProxy's engine-id. */
  readonly engineId?: string;
  /** The NOTIFY's stream-id. */
  readonly streamId?: number;
  /** The NOTIFY's frame-id. */
  readonly frameId?: number;
  /** The NOTIFY's message names. */
  readonly messages?: readonly string[];
  /** A SPOP status code. */
  readonly status?: number;
  /** How many occurrences a summary line stands for. */
  readonly count?: number;
  /** The error behind the record. */
  readonly error?: unknown;
  /** Anything else. */
  readonly [field: string]: unknown;
}

/** Where the agent reports what happens. `console` is a valid logger. */
export interface Logger {
  /** Per-connection events: handshakes, normal closes. */
  debug(message: string, fields?: LogFields): void;
  /** Start, stop. */
  info(message: string, fields?: LogFields): void;
  /** Problems that cost a request its answer: timeouts, oversized ACKs, shed NOTIFYs. */
  warn(message: string, fields?: LogFields): void;
  /** Handler failures and protocol errors. */
  error(message: string, fields?: LogFields): void;
}

/** The log levels, least severe first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

const ignore = (): void => {};

function enabled(level: LogLevel, minimum: LogLevel): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(minimum);
}

/** Options of {@linkcode consoleLogger}. */
export interface ConsoleLoggerOptions {
  /**
   * The least severe level written.
   *
   * @default {"warn"}
   */
  level?: LogLevel;
}

/**
 * A logger that writes to `console` (`console.debug` ... `console.error`),
 * from a level up; the fields, when there are any, follow the message.
 *
 * @param options The level.
 * @returns The logger.
 *
 * @example
 * ```ts
 * import { Agent, consoleLogger } from "@spoa/agent";
 * const agent = new Agent({ logger: consoleLogger({ level: "info" }) });
 * ```
 */
export function consoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const minimum = options.level ?? "warn";
  const write = (level: LogLevel) =>
    enabled(level, minimum)
      ? (message: string, fields?: LogFields) =>
        fields === undefined ? console[level](message) : console[level](message, fields)
      : ignore;
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/** Options of {@linkcode jsonLogger}. */
export interface JsonLoggerOptions {
  /**
   * The least severe level written.
   *
   * @default {"info"}
   */
  level?: LogLevel;
  /**
   * Where each line goes (without its newline).
   *
   * @default `console.log`
   */
  write?: (line: string) => void;
  /**
   * The clock, for the `time` field.
   *
   * @default `() => new Date()`
   */
  now?: () => Date;
}

function errorFields(error: unknown): unknown {
  if (!(error instanceof Error)) return error === undefined ? undefined : String(error);
  const fields: Record<string, unknown> = { name: error.name, message: error.message };
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number") fields.status = status;
  if (error.stack !== undefined) fields.stack = error.stack;
  return fields;
}

function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * A logger that writes one JSON object per line: `time` (ISO 8601), `level`,
 * `msg`, then the record's fields (an `error` as its name, message, status
 * and stack). For log shippers that read JSON lines.
 *
 * @param options The level, where lines go, and the clock.
 * @returns The logger.
 *
 * @example
 * ```ts
 * import { jsonLogger } from "@spoa/agent";
 * const lines: string[] = [];
 * const logger = jsonLogger({ write: (line) => lines.push(line), now: () => new Date(0) });
 * logger.warn("SPOA: something", { peer: "127.0.0.1:5000", status: 2 });
 * console.log(lines[0]);
 * // {"time":"1970-01-01T00:00:00.000Z","level":"warn","msg":"SPOA: something","peer":"127.0.0.1:5000","status":2}
 * ```
 */
export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  const minimum = options.level ?? "info";
  const write = options.write ?? ((line: string) => console.log(line));
  const now = options.now ?? (() => new Date());
  const record = (level: LogLevel) =>
    enabled(level, minimum)
      ? (message: string, fields?: LogFields) => {
        const entry: Record<string, unknown> = {
          time: now().toISOString(),
          level,
          msg: message,
        };
        if (fields !== undefined) {
          for (const [key, value] of Object.entries(fields)) {
            if (value === undefined || key === "time" || key === "level" || key === "msg") continue;
            entry[key] = key === "error" ? errorFields(value) : value;
          }
        }
        write(JSON.stringify(entry, jsonValue));
      }
      : ignore;
  return {
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
  };
}

/** The default logger: warnings and errors to `console`, nothing else. */
export const defaultLogger: Logger = consoleLogger({ level: "warn" });

/** A logger that drops everything. */
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
