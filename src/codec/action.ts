/**
 * Lists of actions (SPOE.txt §3.4): the payload of ACK frames. set-var is
 * `01 03 <scope> <name> <typed-data>`, unset-var `02 02 <scope> <name>`; the
 * scope is a raw byte.
 *
 * @module
 */

import type { ByteWriter } from "./byte_writer.ts";
import { MalformedFrameError } from "./errors.ts";
import { readString, readTypedValue, writeTypedValue } from "./typed_data.ts";
import { type SpopValue, toTypedValue, type TypedValue } from "./typed_value.ts";

/** The action type ids. */
export const ActionType = {
  /** Set a variable. */
  SetVar: 1,
  /** Unset a variable. */
  UnsetVar: 2,
} as const;

/** One of the action type ids. */
export type ActionType = typeof ActionType[keyof typeof ActionType];

/**
 * The variable scopes, as the raw scope byte of an action.
 *
 * - `proc`: the whole process. HAProxy only updates a proc variable that already
 *   exists (set in `global`, or merely referenced in the configuration) unless
 *   the spoe-agent has `option force-set-var`.
 * - `sess`: the client session (the connection, across its requests).
 * - `txn`: the transaction (one request and its response).
 * - `req`: the request only. `res`: the response only; HAProxy drops a `res`
 *   variable set by the ACK of a request-side event.
 */
export const VarScope = {
  /** `proc`: process-wide. */
  Process: 0,
  /** `sess`: the client session. */
  Session: 1,
  /** `txn`: the transaction. */
  Transaction: 2,
  /** `req`: the request. */
  Request: 3,
  /** `res`: the response. */
  Response: 4,
} as const;

/** One of the scope bytes of {@linkcode VarScope}. */
export type VarScope = typeof VarScope[keyof typeof VarScope];

/** A scope as HAProxy's configuration spells it. */
export type ScopeName = "proc" | "sess" | "txn" | "req" | "res";

const SCOPE_NAMES: readonly ScopeName[] = ["proc", "sess", "txn", "req", "res"];

const SCOPE_BY_NAME: Readonly<Record<string, VarScope>> = {
  proc: 0,
  sess: 1,
  txn: 2,
  req: 3,
  res: 4,
};

/**
 * Returns the configuration spelling of a scope byte.
 *
 * @param scope A scope byte.
 * @returns `"proc"`, `"sess"`, `"txn"`, `"req"` or `"res"`.
 *
 * @example
 * ```ts
 * import { scopeName, VarScope } from "@spoa/agent";
 * console.log(scopeName(VarScope.Session)); // sess
 * ```
 */
export function scopeName(scope: VarScope): ScopeName {
  return SCOPE_NAMES[scope];
}

/** An action that sets a variable. */
export interface SetVarAction {
  /** {@linkcode ActionType.SetVar}. */
  readonly type: typeof ActionType.SetVar;
  /** The scope byte. */
  readonly scope: VarScope;
  /** The variable name, without scope or prefix. */
  readonly name: string;
  /** The value; a NULL value makes HAProxy remove the variable. */
  readonly value: TypedValue;
}

/** An action that unsets a variable. */
export interface UnsetVarAction {
  /** {@linkcode ActionType.UnsetVar}. */
  readonly type: typeof ActionType.UnsetVar;
  /** The scope byte. */
  readonly scope: VarScope;
  /** The variable name, without scope or prefix. */
  readonly name: string;
}

/** An action of an ACK frame. */
export type Action = SetVarAction | UnsetVarAction;

/**
 * The longest variable name accepted: HAProxy builds `<scope>.<prefix>.<name>`
 * in a 64-byte buffer (spoe_set_var), so a longer name never fits. The prefix
 * is part of that budget too: keep names short.
 */
export const MAX_VAR_NAME_LENGTH = 56;

const VAR_NAME = /^[A-Za-z0-9_.]+$/;

function toScope(scope: ScopeName | VarScope): VarScope {
  const byte = typeof scope === "number" ? scope : SCOPE_BY_NAME[scope];
  if (byte === undefined || !(byte >= 0 && byte <= 4) || !Number.isInteger(byte)) {
    throw new TypeError(
      `Invalid variable scope ${JSON.stringify(scope)}: use proc, sess, txn, req or res`,
    );
  }
  return byte;
}

/** Names already checked, so the usual handful of names is validated once (bounded). */
const checkedNames = new Set<string>();
const CHECKED_NAMES_MAX = 1024;

function checkName(name: string): string {
  if (checkedNames.has(name)) return name;
  if (typeof name !== "string" || !VAR_NAME.test(name)) {
    throw new TypeError(
      `Invalid variable name ${
        JSON.stringify(name)
      }: HAProxy accepts only [A-Za-z0-9_.] and silently drops other names`,
    );
  }
  if (name.length > MAX_VAR_NAME_LENGTH) {
    throw new TypeError(
      `Invalid variable name "${name}": ${name.length} characters; HAProxy's full name ` +
        `<scope>.<prefix>.<name> must fit in 63 bytes`,
    );
  }
  if (checkedNames.size >= CHECKED_NAMES_MAX) checkedNames.clear();
  checkedNames.add(name);
  return name;
}

/**
 * Builds a set-var action. Plain values get a type by {@linkcode toTypedValue}'s
 * rules (an integer `number` is INT64); pass a {@linkcode Value} to choose.
 *
 * @param scope `"proc"`, `"sess"`, `"txn"`, `"req"`, `"res"` or a {@linkcode VarScope} byte.
 * @param name The variable name without scope or prefix: `[A-Za-z0-9_.]`, at most 56 characters.
 * @param value The value.
 * @returns The action.
 * @throws {TypeError} For a bad scope or name, or a value SPOP cannot carry.
 *
 * @example
 * ```ts
 * import { dataTypeName, setVar, Value } from "@spoa/agent";
 * const actions = [setVar("sess", "ip_score", 42), setVar("txn", "tag", Value.uint32(7))];
 * console.log(dataTypeName(actions[0].value.type), dataTypeName(actions[1].value.type)); // INT64 UINT32
 * ```
 */
export function setVar(
  scope: ScopeName | VarScope,
  name: string,
  value: SpopValue | TypedValue | undefined,
): SetVarAction {
  return {
    type: ActionType.SetVar,
    scope: toScope(scope),
    name: checkName(name),
    value: toTypedValue(value),
  };
}

/**
 * Builds an unset-var action.
 *
 * @param scope `"proc"`, `"sess"`, `"txn"`, `"req"`, `"res"` or a {@linkcode VarScope} byte.
 * @param name The variable name without scope or prefix.
 * @returns The action.
 * @throws {TypeError} For a bad scope or name.
 *
 * @example
 * ```ts
 * import { unsetVar } from "@spoa/agent";
 * console.log(unsetVar("txn", "blocked").type); // 2
 * ```
 */
export function unsetVar(scope: ScopeName | VarScope, name: string): UnsetVarAction {
  return { type: ActionType.UnsetVar, scope: toScope(scope), name: checkName(name) };
}

/**
 * Decodes a list of actions. Like HAProxy, it accepts only set-var with 3
 * arguments and unset-var with 2; anything else is an error here (HAProxy
 * stops applying actions there, silently).
 *
 * @param bytes The frame (or any buffer holding the list).
 * @param start Where the list starts.
 * @param end Where the list ends.
 * @returns The actions in order.
 * @throws {MalformedFrameError} On an unknown action, a wrong NB-ARGS, a bad scope,
 *   or an action cut short.
 *
 * @example
 * ```ts
 * import { decodeActions } from "@spoa/agent/codec";
 * const bytes = new Uint8Array([2, 2, 2, 1, 120]); // unset-var txn "x"
 * console.log(decodeActions(bytes)[0].name); // x
 * ```
 */
export function decodeActions(bytes: Uint8Array, start = 0, end: number = bytes.length): Action[] {
  const cursor = { pos: start };
  const actions: Action[] = [];
  while (cursor.pos < end) {
    const at = cursor.pos;
    if (end - at < 3) throw new MalformedFrameError("Cannot decode action: cut short", at);
    const type = bytes[at];
    const count = bytes[at + 1];
    const scope = bytes[at + 2];
    if (type === ActionType.SetVar && count !== 3 || type === ActionType.UnsetVar && count !== 2) {
      throw new MalformedFrameError(`Cannot decode action ${type}: NB-ARGS is ${count}`, at + 1);
    }
    if (type !== ActionType.SetVar && type !== ActionType.UnsetVar) {
      throw new MalformedFrameError(`Cannot decode action: unknown action type ${type}`, at);
    }
    if (scope > 4) throw new MalformedFrameError(`Cannot decode action: scope ${scope}`, at + 2);
    cursor.pos = at + 3;
    const name = readString(bytes, cursor, end, "variable name");
    if (type === ActionType.SetVar) {
      const value = readTypedValue(bytes, cursor, end);
      actions.push({ type, scope: scope as VarScope, name, value });
    } else {
      actions.push({ type, scope: scope as VarScope, name });
    }
  }
  return actions;
}

/**
 * Appends a list of actions.
 *
 * @param writer The destination.
 * @param actions The actions.
 * @param stopPast Stop encoding once the writer holds more than this many
 *   bytes (the rest could not fit a frame anyway).
 */
export function writeActions(
  writer: ByteWriter,
  actions: Iterable<Action>,
  stopPast = Infinity,
): void {
  for (const action of actions) {
    writer.u8(action.type);
    writer.u8(action.type === ActionType.SetVar ? 3 : 2);
    writer.u8(action.scope);
    writer.string(action.name);
    if (action.type === ActionType.SetVar) writeTypedValue(writer, action.value);
    if (writer.length > stopPast) return;
  }
}
