/**
 * The context a handler gets with each NOTIFY: who sent it, a cancellation
 * signal, and the actions the ACK will carry.
 *
 * @module
 */

import { type Action, type ScopeName, setVar, unsetVar, type VarScope } from "../codec/action.ts";
import type { Message } from "../codec/message.ts";
import type { SpopValue, TypedValue } from "../codec/typed_value.ts";

/** What a handler may return: actions to add to the ACK, or nothing. */
export type HandlerResult = void | undefined | readonly Action[];

/**
 * Handles one SPOE message. It may be synchronous or return a promise; it adds
 * actions through the context, or returns them.
 */
export type MessageHandler = (
  message: Message,
  context: NotifyContext,
) => HandlerResult | Promise<HandlerResult>;

/** Handles all the messages of one NOTIFY frame at once. */
export type NotifyHandler = (
  messages: readonly Message[],
  context: NotifyContext,
) => HandlerResult | Promise<HandlerResult>;

/**
 * One NOTIFY being processed. Handlers read its ids and connection facts, add
 * actions with {@linkcode NotifyContext.setVar} and
 * {@linkcode NotifyContext.unsetVar}, and watch {@linkcode NotifyContext.signal}
 * in long work: it fires when the processing deadline passes or the
 * connection closes, after which the ACK has gone out without them.
 *
 * @example
 * ```ts
 * import { Agent } from "@spoa/agent";
 * const agent = new Agent().on("check-client", (message, context) => {
 *   context.setVar("txn", "seen_by", String(context.remoteAddress));
 * });
 * ```
 */
export interface NotifyContext {
  /** The NOTIFY's stream-id. */
  readonly streamId: number;
  /** The NOTIFY's frame-id. */
  readonly frameId: number;
  /** All messages of the NOTIFY, in order. */
  readonly messages: readonly Message[];
  /** The actions the ACK will carry so far, in order. */
  readonly actions: readonly Action[];
  /** HAProxy's engine-id from the handshake (one per HAProxy process or thread), if sent. */
  readonly engineId: string | undefined;
  /** The address of HAProxy's end of the connection. */
  readonly remoteAddress: string | undefined;
  /**
   * Fires when the answer is no longer wanted: the processing deadline passed
   * (reason: a `SpopError` with status 2), HAProxy disconnected (a
   * `PeerDisconnectError`), or the connection closed. Pass it to `fetch()` and
   * the like.
   */
  readonly signal: AbortSignal;
  /**
   * Adds a set-var action to the ACK.
   *
   * @param scope `"proc"`, `"sess"`, `"txn"`, `"req"` or `"res"`.
   * @param name The variable name without scope or prefix (`[A-Za-z0-9_.]`).
   * @param value The value: plain values are typed as `toTypedValue` says.
   * @throws {TypeError} For a bad scope, name or value.
   */
  setVar(scope: ScopeName | VarScope, name: string, value: SpopValue | TypedValue): void;
  /**
   * Adds an unset-var action to the ACK.
   *
   * @param scope `"proc"`, `"sess"`, `"txn"`, `"req"` or `"res"`.
   * @param name The variable name without scope or prefix.
   * @throws {TypeError} For a bad scope or name.
   */
  unsetVar(scope: ScopeName | VarScope, name: string): void;
}

/** The connection facts a context exposes. */
export interface ConnectionInfo {
  /** HAProxy's engine-id from the handshake, if sent. */
  readonly engineId: string | undefined;
  /** The address of HAProxy's end of the connection. */
  readonly remoteAddress: string | undefined;
}

/** The actions of a NOTIFY no handler added to; never written (see NotifyJob.actions). */
const NO_ACTIONS = Object.freeze([]) as unknown as Action[];

/**
 * The engine's record of one NOTIFY: the context handlers see, plus where the
 * notify runner is with it. Only the engine holds it as a `NotifyJob`.
 */
export class NotifyJob implements NotifyContext {
  readonly streamId: number;
  readonly frameId: number;
  readonly messages: readonly Message[];
  /**
   * The actions handlers added, in order. Starts as a shared empty array that is
   * never written: the first action replaces it with an array of one (an array
   * grown by push() from empty takes room for 16), see {@linkcode addAction}.
   */
  #actions: Action[] = NO_ACTIONS;
  /** The next handler step to run: one per message, then the NOTIFY handler. */
  step = 0;
  /** Set once the ACK is decided; later results are ignored. */
  done = false;
  /** When the deadline passes (`performance.now()` ms), once asynchronous; 0 before. */
  deadline = 0;
  /** When the NOTIFY arrived (`performance.now()` ms, read once per chunk of input). */
  readonly startedAt: number;
  #connection: ConnectionInfo;
  #controller: AbortController | undefined;

  constructor(
    connection: ConnectionInfo,
    streamId: number,
    frameId: number,
    messages: readonly Message[],
    startedAt: number,
  ) {
    this.#connection = connection;
    this.streamId = streamId;
    this.frameId = frameId;
    this.messages = messages;
    this.startedAt = startedAt;
  }

  /** The live array of actions: a handler that keeps it sees the actions added later. */
  get actions(): readonly Action[] {
    if (this.#actions === NO_ACTIONS) this.#actions = [];
    return this.#actions;
  }

  /** The actions added so far, for the engine: reading them allocates nothing. */
  get collected(): readonly Action[] {
    return this.#actions;
  }

  get engineId(): string | undefined {
    return this.#connection.engineId;
  }

  get remoteAddress(): string | undefined {
    return this.#connection.remoteAddress;
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  setVar(scope: ScopeName | VarScope, name: string, value: SpopValue | TypedValue): void {
    this.addAction(setVar(scope, name, value));
  }

  unsetVar(scope: ScopeName | VarScope, name: string): void {
    this.addAction(unsetVar(scope, name));
  }

  /** Appends one action to {@linkcode collected}. */
  addAction(action: Action): void {
    if (this.#actions === NO_ACTIONS) this.#actions = [action];
    else this.#actions.push(action);
  }

  /** Fires the signal (creating it if no handler has read it yet, so a late reader sees it aborted). */
  abort(reason: unknown): void {
    this.#controller ??= new AbortController();
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }
}
