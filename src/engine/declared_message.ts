/**
 * Handlers typed by a message declaration: `agent.on(declaration, handler)`
 * gives the handler a message whose `get`, `arg` and `has` take only the
 * declared argument names.
 *
 * @module
 */

import type { Message } from "../codec/message.ts";
import type { NamedValue } from "../codec/kv_list.ts";
import type { SpopValue } from "../codec/typed_value.ts";
import type { HandlerResult, NotifyContext } from "./context.ts";

/** What `agent.on()` needs of a declaration: its name, and its argument names for the types. */
export interface MessageRef<Arg extends string = string> {
  /** The message name. */
  readonly name: string;
  /** The arguments by name (only the names are used). */
  readonly args: { readonly [K in Arg]: string };
}

/**
 * A {@linkcode Message} whose arguments are looked up by the declared names
 * only. At run time it is the plain `Message`.
 *
 * @typeParam Arg The declared argument names.
 */
export type DeclaredMessage<Arg extends string> = Omit<Message, "get" | "arg" | "has"> & {
  /**
   * The value of a declared argument.
   *
   * @param name A declared argument name.
   * @returns Its value (`null` for a sample HAProxy could not fetch), or `undefined` if absent.
   */
  get(name: Arg): SpopValue | undefined;
  /**
   * A declared argument with its type.
   *
   * @param name A declared argument name.
   * @returns The argument, or `undefined` if absent.
   */
  arg(name: Arg): NamedValue | undefined;
  /**
   * Tells whether a declared argument is present.
   *
   * @param name A declared argument name.
   * @returns Whether it is.
   */
  has(name: Arg): boolean;
};

/**
 * A handler registered against a message declaration: a `MessageHandler`
 * whose message is typed by the declared names.
 *
 * @typeParam Arg The declared argument names.
 */
export type DeclaredHandler<Arg extends string> = (
  message: DeclaredMessage<Arg>,
  context: NotifyContext,
) => HandlerResult | Promise<HandlerResult>;
