/**
 * Declaring an SPOE engine: its messages and groups, its variable prefix, and
 * the variables the agent sets.
 *
 * @module
 */

import type { ScopeName } from "../codec/action.ts";
import { defineMessage, type SpoeMessage } from "./define_message.ts";

/** The type of a variable the agent sets, as HAProxy stores it. */
export type VariableType = "bool" | "int" | "ip" | "str" | "bin";

/** A variable the agent sets: `context.setVar(scope, name, value)`. */
export interface SpoeVariable {
  /** `proc`, `sess`, `txn`, `req` or `res`. */
  readonly scope: ScopeName;
  /** The name without scope or prefix: `[A-Za-z0-9_.]`. */
  readonly name: string;
  /**
   * The value's type: `bin` values are shown through the `hex` converter in
   * the trial configuration.
   *
   * @default {"str"}
   */
  readonly type?: VariableType;
}

/** What {@linkcode defineEngine} takes. */
export interface SpoeEngineSpec {
  /**
   * The engine name: the `[NAME]` scope of the SPOE file and
   * `filter spoe engine NAME` in haproxy.cfg.
   */
  readonly name: string;
  /**
   * The `spoe-agent` section name; by default the engine name followed by `-agent`.
   */
  readonly agent?: string;
  /**
   * `option var-prefix`: HAProxy names the agent's variables
   * `<scope>.<prefix>.<name>`. By default the engine name.
   */
  readonly varPrefix?: string;
  /** The messages sent on their events (the spoe-agent's `messages`). */
  readonly messages?: readonly SpoeMessage[];
  /**
   * Groups by name (the spoe-agent's `groups`): their messages are sent by
   * `http-request send-spoe-group ENGINE GROUP` (or the tcp-request /
   * response forms), not on an event.
   */
  readonly groups?: Readonly<Record<string, readonly SpoeMessage[]>>;
  /** The variables the agent sets. */
  readonly variables?: readonly SpoeVariable[];
  /**
   * `option set-on-error`: the `txn` variable HAProxy sets to the error code
   * when an exchange fails (`null` leaves the option out).
   *
   * @default {"error"}
   */
  readonly setOnError?: string | null;
  /** `option set-process-time`: a `txn` variable for the last exchange's duration (ms). */
  readonly setProcessTime?: string;
  /** `option set-total-time`: a `txn` variable for the stream's total SPOE time (ms). */
  readonly setTotalTime?: string;
}

/** An engine declaration with every default filled in. */
export interface SpoeEngine {
  /** The engine name. */
  readonly name: string;
  /** The `spoe-agent` section name. */
  readonly agent: string;
  /** `option var-prefix`. */
  readonly varPrefix: string;
  /** The messages sent on their events. */
  readonly messages: readonly SpoeMessage[];
  /** Groups by name. */
  readonly groups: Readonly<Record<string, readonly SpoeMessage[]>>;
  /** The variables the agent sets. */
  readonly variables: readonly SpoeVariable[];
  /** `option set-on-error`, if any. */
  readonly setOnError: string | undefined;
  /** `option set-process-time`, if any. */
  readonly setProcessTime: string | undefined;
  /** `option set-total-time`, if any. */
  readonly setTotalTime: string | undefined;
}

const SCOPES: readonly string[] = ["proc", "sess", "txn", "req", "res"];
const TYPES: readonly string[] = ["bool", "int", "ip", "str", "bin"];

function optionalString(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") {
    throw new TypeError(`Invalid SPOE engine: ${field} must be a string`);
  }
  return value;
}

function checkVariable(variable: SpoeVariable): SpoeVariable {
  if (variable === null || typeof variable !== "object") {
    throw new TypeError("Invalid SPOE variable: expected { scope, name, type }");
  }
  if (!SCOPES.includes(variable.scope)) {
    throw new TypeError(
      `Invalid scope ${JSON.stringify(variable.scope)} of variable ${
        JSON.stringify(variable.name)
      }: use proc, sess, txn, req or res`,
    );
  }
  if (typeof variable.name !== "string") {
    throw new TypeError(`Invalid SPOE variable: name must be a string`);
  }
  if (variable.type !== undefined && !TYPES.includes(variable.type)) {
    throw new TypeError(
      `Invalid type ${JSON.stringify(variable.type)} of variable "${variable.name}": ` +
        `use bool, int, ip, str or bin`,
    );
  }
  return Object.freeze({
    scope: variable.scope,
    name: variable.name,
    type: variable.type ?? "str",
  });
}

/**
 * Declares an SPOE engine: what one agent is sent and what it answers. The
 * same declaration generates the SPOE file and the haproxy.cfg parts
 * ({@linkcode generateConfig}) and is checked against the agent's handlers
 * ({@linkcode checkConfig}).
 *
 * @param spec The engine.
 * @returns The engine with defaults filled in, frozen.
 * @throws {TypeError} When a field has the wrong JavaScript type, or a
 *   variable has an unknown scope or type. Names HAProxy would reject are
 *   reported by {@linkcode checkConfig}.
 *
 * @example
 * ```ts
 * import { defineEngine, defineMessage, variableName } from "@spoa/agent/config";
 * const engine = defineEngine({
 *   name: "iprep",
 *   messages: [defineMessage({ name: "get-ip-reputation", args: { ip: "src" }, event: "on-client-session" })],
 *   variables: [{ scope: "sess", name: "ip_score", type: "int" }],
 * });
 * console.log(variableName(engine, engine.variables[0])); // sess.iprep.ip_score
 * ```
 */
export function defineEngine(spec: SpoeEngineSpec): SpoeEngine {
  if (spec === null || typeof spec !== "object") {
    throw new TypeError("Invalid SPOE engine: expected an object");
  }
  if (typeof spec.name !== "string") {
    throw new TypeError("Invalid SPOE engine: name must be a string");
  }
  const messages = spec.messages ?? [];
  if (!Array.isArray(messages)) {
    throw new TypeError("Invalid SPOE engine: messages must be an array");
  }
  const groups: Record<string, readonly SpoeMessage[]> = {};
  for (const [group, members] of Object.entries(spec.groups ?? {})) {
    if (!Array.isArray(members)) {
      throw new TypeError(`Invalid SPOE engine: group "${group}" must be an array of messages`);
    }
    groups[group] = Object.freeze(members.map(defineMessage));
  }
  const variables = spec.variables ?? [];
  if (!Array.isArray(variables)) {
    throw new TypeError("Invalid SPOE engine: variables must be an array");
  }
  const setOnError = spec.setOnError === null
    ? undefined
    : optionalString("setOnError", spec.setOnError) ?? "error";
  return Object.freeze({
    name: spec.name,
    agent: optionalString("agent", spec.agent) ?? `${spec.name}-agent`,
    varPrefix: optionalString("varPrefix", spec.varPrefix) ?? spec.name,
    messages: Object.freeze(messages.map(defineMessage)),
    groups: Object.freeze(groups),
    variables: Object.freeze(variables.map(checkVariable)),
    setOnError,
    setProcessTime: optionalString("setProcessTime", spec.setProcessTime),
    setTotalTime: optionalString("setTotalTime", spec.setTotalTime),
  });
}

/**
 * The full name HAProxy gives a variable of this engine: `<scope>.<prefix>.<name>`,
 * as used in `var(...)` in haproxy.cfg.
 *
 * @param engine The engine.
 * @param variable The variable (or just its scope and name).
 * @returns The full name.
 *
 * @example
 * ```ts
 * import { defineEngine, variableName } from "@spoa/agent/config";
 * const engine = defineEngine({ name: "waf", varPrefix: "waf" });
 * console.log(variableName(engine, { scope: "txn", name: "verdict" })); // txn.waf.verdict
 * ```
 */
export function variableName(
  engine: Pick<SpoeEngine, "varPrefix">,
  variable: Pick<SpoeVariable, "scope" | "name">,
): string {
  return `${variable.scope}.${engine.varPrefix}.${variable.name}`;
}
