/**
 * The agent's log lines, written from its events: one record per event that
 * matters to an operator, with fields (peer, engine-id, stream and frame ids,
 * status). Warnings that repeat with load (deadline misses, fallbacks, shed
 * NOTIFYs, handler failures) are summarised: the first of a kind is written,
 * then one line per interval says how many more came.
 *
 * @module
 */

import { statusMessage } from "../codec/status.ts";
import type {
  ConnectionClosedEvent,
  ConnectionFacts,
  ConnectionRefusedEvent,
  DisconnectEvent,
  HandshakeEvent,
  NotifyEvent,
  NotifyOutcome,
  ProtocolErrorEvent,
} from "./events.ts";
import { logText } from "./log_text.ts";
import type { LogFields, Logger } from "./logger.ts";

type Level = "debug" | "info" | "warn" | "error";

/** The limits the log lines name. */
export interface EventLogSettings {
  /** Milliseconds during which repeats of a warning are only counted; 0 writes every one. */
  readonly logRepeatInterval: number;
  /** The agent's processing deadline. */
  readonly processingTimeout: number;
  /** The agent's connection limit. */
  readonly maxConnections: number;
  /** The agent's in-flight limit. */
  readonly maxInFlight: number;
}

/** The level and the line of each outcome that is not `"ok"` (`notify` names the NOTIFY). */
function outcomeLine(
  outcome: Exclude<NotifyOutcome, "ok">,
  notify: string,
  settings: EventLogSettings,
): { level: Level; text: string } {
  switch (outcome) {
    case "error":
      return { level: "error", text: `handler failed for ${notify}` };
    case "deadline":
      return {
        level: "warn",
        text: `${notify} missed the ${settings.processingTimeout} ms processing deadline`,
      };
    case "too-big":
      return { level: "warn", text: `the ACK for ${notify} would exceed max-frame-size` };
    case "overload":
      return {
        level: "warn",
        text: `${notify} came with maxInFlight (${settings.maxInFlight}) handlers running`,
      };
    case "shutdown":
      return { level: "warn", text: `${notify} was still running at the shutdown timeout` };
  }
}

interface Window {
  /** When the window opened (`performance.now()` ms). */
  start: number;
  /** Occurrences counted and not written since then. */
  suppressed: number;
}

function connectionFields(connection: ConnectionFacts): LogFields {
  return { connection: connection.id, peer: connection.peer, engineId: connection.engineId };
}

/** Turns an agent's events into log records. */
export class EventLog {
  #logger: Logger;
  #settings: EventLogSettings;
  #interval: number;
  #now: () => number;
  #windows = new Map<string, Window>();

  /**
   * Creates the log of an agent.
   *
   * @param logger Where records go.
   * @param settings The repeat interval and the limits lines name.
   * @param now The clock (`performance.now()` by default).
   */
  constructor(
    logger: Logger,
    settings: EventLogSettings,
    now: () => number = () => performance.now(),
  ) {
    this.#logger = logger;
    this.#settings = settings;
    this.#interval = settings.logRepeatInterval;
    this.#now = now;
  }

  /** Records a connection that was refused. */
  connectionRefused(event: ConnectionRefusedEvent): void {
    const why = event.reason === "max-connections"
      ? `maxConnections ${this.#settings.maxConnections} reached`
      : "its server is closing";
    if (event.reason === "max-connections") {
      this.#repeated("refused", "warn", `SPOA: refused a connection: ${why}`, { peer: event.peer });
    } else {
      this.#logger.debug(`SPOA: refused a connection: ${why}`, { peer: event.peer });
    }
  }

  /** Records the end of a connection. */
  connectionClosed(event: ConnectionClosedEvent): void {
    const fields = connectionFields(event.connection);
    if (event.reason === "socket-error") {
      this.#logger.warn(`SPOA: connection failed: ${event.error}`, {
        ...fields,
        error: event.error,
      });
    } else if (event.reason === "timeout") {
      this.#logger.info("SPOA: connection closed: hello or idle timeout", fields);
    } else {
      this.#logger.debug(`SPOA: connection closed (${event.reason})`, fields);
    }
  }

  /** Records a handshake. */
  handshake(event: HandshakeEvent): void {
    this.#logger.debug(
      `SPOA: ${event.healthcheck ? "health check" : "handshake"}: max-frame-size ` +
        `${event.maxFrameSize}, capabilities "${event.capabilities.join(",")}"`,
      connectionFields(event.connection),
    );
  }

  /** Records a NOTIFY whose answer is not its handlers' actions. */
  notify(event: NotifyEvent): void {
    if (event.outcome === "ok") return;
    const names = event.messages.map((message) => message.name);
    const notify = `NOTIFY ${event.streamId}/${event.frameId} (${logText(names.join(", "))})`;
    const { level, text } = outcomeLine(event.outcome, notify, this.#settings);
    const fields: LogFields = {
      ...connectionFields(event.connection),
      streamId: event.streamId,
      frameId: event.frameId,
      messages: names,
      outcome: event.outcome,
      durationMs: Math.round(event.durationMs * 1000) / 1000,
      ...(event.error === undefined ? {} : { error: event.error }),
    };
    this.#repeated(event.outcome, level, `SPOA: ${text}; sent the fallback actions`, fields);
  }

  /** Records a DISCONNECT frame. */
  disconnect(event: DisconnectEvent): void {
    if (event.side === "agent") return; // Its cause is logged where it arises.
    const fields = { ...connectionFields(event.connection), status: event.status };
    const text = `SPOA: HAProxy disconnected: status ${event.status} (${
      logText(event.message || statusMessage(event.status))
    })`;
    // 0 is a normal close and 2 HAProxy's idle timeout; others point at a protocol problem.
    if (event.status === 0 || event.status === 2) this.#logger.debug(text, fields);
    else this.#logger.warn(text, fields);
  }

  /** Records a protocol error. */
  protocolError(event: ProtocolErrorEvent): void {
    // A peer that sends garbage on connection after connection must not flood the log either.
    this.#repeated(
      "protocol-error",
      "error",
      `SPOA: protocol error: ${logText(event.message)} (status ${event.status}); closing the ` +
        `connection`,
      { ...connectionFields(event.connection), status: event.status },
    );
  }

  /** Writes the summaries of warnings counted and not written yet. */
  flush(): void {
    const now = this.#now();
    for (const [kind, window] of this.#windows) this.#summarize(kind, window, now);
    this.#windows.clear();
  }

  #repeated(kind: string, level: Level, message: string, fields: LogFields): void {
    if (this.#interval === 0) {
      this.#logger[level](message, fields);
      return;
    }
    const now = this.#now();
    const window = this.#windows.get(kind);
    if (window !== undefined && now - window.start < this.#interval) {
      window.suppressed++;
      return;
    }
    if (window !== undefined) this.#summarize(kind, window, now);
    this.#windows.set(kind, { start: now, suppressed: 0 });
    this.#logger[level](message, fields);
  }

  #summarize(kind: string, window: Window, now: number): void {
    if (window.suppressed === 0) return;
    const seconds = Math.round((now - window.start) / 100) / 10;
    this.#logger.warn(
      `SPOA: ${window.suppressed} more "${kind}" events in the ${seconds} s after the one logged`,
      { count: window.suppressed, kind },
    );
  }
}
