/**
 * Declaring an SPOE message once, in TypeScript: the same object generates
 * its `spoe-message` section and registers its handler.
 *
 * @module
 */

import type { SpoeEvent } from "./spoe_event.ts";

/**
 * One SPOE message (`spoe-message NAME`): its arguments as HAProxy sample
 * expressions, the event that sends it, and an optional ACL condition.
 *
 * @typeParam Arg The argument names, so that handlers are typed by them.
 */
export interface SpoeMessage<Arg extends string = string> {
  /** The message name: `[A-Za-z0-9_.:-]`, as HAProxy allows for section names. */
  readonly name: string;
  /**
   * The arguments, in order: name → sample expression (`{ ip: "src", ua:
   * "req.hdr(user-agent)" }` gives `args ip=src ua=req.hdr(user-agent)`).
   * A sample expression has no spaces. Arguments keep the object's key order
   * (JavaScript puts integer-like keys such as `"0"` first).
   */
  readonly args: { readonly [K in Arg]: string };
  /**
   * The event that sends it. Leave it out only for a message sent by a group
   * (`http-request send-spoe-group`).
   */
  readonly event?: SpoeEvent;
  /**
   * An ACL condition on the event, starting with `if` or `unless`:
   * `"if { path_beg /api }"`, `"unless is_static"`.
   */
  readonly condition?: string;
  /**
   * Named ACLs the condition may use (`acl NAME CRITERION...` lines of the
   * message section): `{ is_static: "path_end .css .js" }`.
   */
  readonly acls?: Readonly<Record<string, string>>;
}

function fail(what: string, detail: string): never {
  throw new TypeError(`Invalid SPOE message ${what}: ${detail}`);
}

/**
 * Declares an SPOE message. The argument names become the type of the
 * handler's message when it is registered with `agent.on(declaration, ...)`.
 * The result is a frozen copy; what HAProxy would reject is reported by
 * {@linkcode checkConfig}, not here.
 *
 * @typeParam Arg The argument names, inferred from `args`.
 * @param message The declaration.
 * @returns The same declaration, frozen.
 * @throws {TypeError} When a field has the wrong JavaScript type (a name that
 *   is not a string, an argument that is not a string expression).
 *
 * @example
 * ```ts
 * import { defineMessage } from "@spoa/agent/config";
 * const check = defineMessage({
 *   name: "check-request",
 *   args: { ip: "src", path: "path" },
 *   event: "on-frontend-http-request",
 *   condition: "unless { path_beg /static }",
 * });
 * console.log(Object.keys(check.args)); // [ "ip", "path" ]
 * ```
 */
export function defineMessage<const Arg extends string>(
  message: SpoeMessage<Arg>,
): SpoeMessage<Arg> {
  if (message === null || typeof message !== "object") fail("", "expected an object");
  const name = message.name;
  if (typeof name !== "string") fail("name", `expected a string, got ${typeof name}`);
  const args = message.args as Record<string, unknown>;
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    fail(`"${name}"`, "args must be an object of name → sample expression");
  }
  for (const [arg, expression] of Object.entries(args)) {
    if (typeof expression !== "string") {
      fail(`"${name}"`, `argument "${arg}" must be a sample expression string`);
    }
  }
  for (const key of ["event", "condition"] as const) {
    const value = message[key];
    if (value !== undefined && typeof value !== "string") {
      fail(`"${name}"`, `${key} must be a string`);
    }
  }
  const acls = message.acls as Record<string, unknown> | undefined;
  if (acls !== undefined) {
    if (acls === null || typeof acls !== "object" || Array.isArray(acls)) {
      fail(`"${name}"`, "acls must be an object of name → ACL criterion");
    }
    for (const [acl, criterion] of Object.entries(acls)) {
      if (typeof criterion !== "string") fail(`"${name}"`, `ACL "${acl}" must be a string`);
    }
  }
  return Object.freeze({
    name,
    args: Object.freeze({ ...message.args }),
    ...(message.event !== undefined && { event: message.event }),
    ...(message.condition !== undefined && { condition: message.condition }),
    ...(message.acls !== undefined && { acls: Object.freeze({ ...message.acls }) }),
  });
}
