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

/** The connection facts a context exposes. */
export interface ConnectionInfo {
  /** HAProxy's engine-id from the handshake, if sent. */
  readonly engineId: string | undefined;
  /** The address of HAProxy's end of the connection. */
  readonly remoteAddress: string | undefined;
}

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
export class NotifyContext {
  /** The NOTIFY's stream-id. */
  readonly streamId: number;
  /** The NOTIFY's frame-id. */
  readonly frameId: number;
  /** All messages of the NOTIFY, in order. */
  readonly messages: readonly Message[];
  /** The actions the ACK will carry, in order. */
  readonly actions: Action[] = [];
  /** @internal The next handler step to run. */
  step = 0;
  /** @internal Set once the ACK is decided; later results are ignored. */
  done = false;
  /** @internal When the deadline passes (`performance.now()` ms), once asynchronous. */
  deadline = 0;
  #connection: ConnectionInfo;
  #controller: AbortController | undefined;

  /**
   * Creates a context (the engine does this).
   *
   * @param connection The connection the NOTIFY came on.
   * @param streamId The stream-id.
   * @param frameId The frame-id.
   * @param messages The messages.
   */
  constructor(
    connection: ConnectionInfo,
    streamId: number,
    frameId: number,
    messages: readonly Message[],
  ) {
    this.#connection = connection;
    this.streamId = streamId;
    this.frameId = frameId;
    this.messages = messages;
  }

  /** HAProxy's engine-id from the handshake (one per HAProxy process or thread). */
  get engineId(): string | undefined {
    return this.#connection.engineId;
  }

  /** The address of HAProxy's end of the connection. */
  get remoteAddress(): string | undefined {
    return this.#connection.remoteAddress;
  }

  /** Fires when the answer is no longer wanted: deadline passed, or connection closed. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /**
   * Adds a set-var action to the ACK.
   *
   * @param scope `"proc"`, `"sess"`, `"txn"`, `"req"` or `"res"`.
   * @param name The variable name without scope or prefix (`[A-Za-z0-9_.]`).
   * @param value The value: plain values are typed as {@linkcode toTypedValue} says.
   * @throws {TypeError} For a bad scope, name or value.
   */
  setVar(scope: ScopeName | VarScope, name: string, value: SpopValue | TypedValue): void {
    this.actions.push(setVar(scope, name, value));
  }

  /**
   * Adds an unset-var action to the ACK.
   *
   * @param scope `"proc"`, `"sess"`, `"txn"`, `"req"` or `"res"`.
   * @param name The variable name without scope or prefix.
   * @throws {TypeError} For a bad scope or name.
   */
  unsetVar(scope: ScopeName | VarScope, name: string): void {
    this.actions.push(unsetVar(scope, name));
  }

  /**
   * @internal Fires the signal.
   * @param reason Why.
   */
  abort(reason: unknown): void {
    // Create the controller if the handler has not read the signal yet, so a handler that
    // first looks at it after the deadline still sees it aborted.
    this.#controller ??= new AbortController();
    this.#controller.abort(reason);
  }
}
