/**
 * The findings of the configuration checks: what kind of problem, how bad,
 * and what to do.
 *
 * @module
 */

/** The kinds of problem the configuration checks report. */
export const FindingCode = {
  /** An engine, agent, message, group, ACL or backend name with a character HAProxy refuses. */
  InvalidName: "invalid-name",
  /** `option var-prefix` with a character other than `[A-Za-z0-9_.]`. */
  InvalidVarPrefix: "invalid-var-prefix",
  /** A variable name with a character other than `[A-Za-z0-9_.]`: HAProxy drops it. */
  InvalidVariableName: "invalid-variable-name",
  /** `<scope>.<prefix>.<name>` longer than 63 bytes (spoe_set_var()), or a name over 56 characters. */
  VariableNameTooLong: "variable-name-too-long",
  /** Two different messages with one name, a message in two groups, two groups with one name. */
  DuplicateName: "duplicate-name",
  /** An argument name or sample expression that cannot be written on an `args` line. */
  InvalidArgument: "invalid-argument",
  /** A condition that does not start with `if` or `unless`, or an empty ACL. */
  InvalidCondition: "invalid-condition",
  /** An event the target HAProxy version does not have. */
  UnknownEvent: "unknown-event",
  /** An event-driven message without an event: HAProxy ignores it. */
  MissingEvent: "missing-event",
  /** A message sent only by a group has an event: it is never sent on it. */
  IgnoredEvent: "ignored-event",
  /** An engine with no message and no group. */
  EmptyEngine: "empty-engine",
  /** A declared message the agent has no handler for: it is acknowledged with no action. */
  MessageWithoutHandler: "message-without-handler",
  /** A handler for a message the configuration never sends. */
  HandlerWithoutMessage: "handler-without-message",
  /** `timeout processing` not above the agent's `processingTimeout`, or no agent deadline. */
  ProcessingTimeout: "processing-timeout",
  /**
   * `max-frame-size` outside 256 to `tune.bufsize` − 4, or above the agent's
   * `maxFrameSize`: NOTIFYs larger than the agent's fail (set-on-error 259).
   */
  FrameSize: "frame-size",
  /** A `res` variable but no response event: HAProxy drops it. */
  ResponseVariable: "response-variable",
  /** A `proc` variable that the haproxy.cfg never mentions: HAProxy will not create it. */
  ProcVariable: "proc-variable",
  /** An argument reads the request body but the proxy lacks `option http-buffer-request`. */
  BodyWithoutBuffering: "body-without-buffering",
  /** No `filter spoe engine NAME` in the haproxy.cfg. */
  FilterMissing: "filter-missing",
  /** An event that cannot fire where the filter is (backend section, listen section, TCP mode). */
  EventNeverFires: "event-never-fires",
  /** The agents backend is missing, has no server, or has the wrong mode for the version. */
  Backend: "backend",
  /** `send-spoe-group` names an unknown group, or a declared group is never sent. */
  Group: "group",
  /** haproxy.cfg reads a variable with the engine's prefix that nobody sets. */
  UnknownVariable: "unknown-variable",
} as const;

/** One kind of problem. */
export type FindingCode = typeof FindingCode[keyof typeof FindingCode];

/** One problem found by the configuration checks. */
export interface Finding {
  /**
   * `error`: HAProxy rejects the configuration, or it cannot work as declared.
   * `warning`: it works, but probably not as meant.
   */
  readonly severity: "error" | "warning";
  /** The kind of problem. */
  readonly code: FindingCode;
  /** What is wrong and what to do. */
  readonly message: string;
}

/** @internal Collects findings. */
export class Findings {
  /** The findings so far, in order. */
  readonly list: Finding[] = [];
  /**
   * Adds an error.
   *
   * @param code The kind.
   * @param message What is wrong and what to do.
   */
  error(code: FindingCode, message: string): void {
    this.list.push({ severity: "error", code, message });
  }
  /**
   * Adds a warning.
   *
   * @param code The kind.
   * @param message What is wrong and what to do.
   */
  warning(code: FindingCode, message: string): void {
    this.list.push({ severity: "warning", code, message });
  }
}
