// The handlers of every fuzz target, in memory (tests/hostile) and over sockets
// (scripts/target_agent.ts): synchronous and deterministic, so that one stream always gets the
// same answer. Free of test tooling, so that the target agent loads only the library.
import { type Agent, Ipv4Address, type Message, type NotifyContext } from "../../mod.ts";

const VARIABLE_NAME = /^[A-Za-z0-9_.]{1,56}$/;

/** Sets a txn variable for every argument whose name HAProxy accepts, with its type and value. */
function echo(message: Message, context: NotifyContext): void {
  for (const arg of message) {
    if (VARIABLE_NAME.test(arg.name)) context.setVar("txn", arg.name, arg);
  }
}

/** The message the well-behaved connections send; its answer is checked exactly. */
export const SCORE_MESSAGE = "score";

/**
 * Registers the fuzz handlers. The captured messages are echoed back (an
 * argument with a name HAProxy would refuse, or an answer too big for a frame, exercises the
 * fallback); `score` answers `sess.score` = the last byte of its `ip`.
 *
 * @param agent The agent to register them on.
 * @returns The agent.
 */
export function registerFuzzHandlers(agent: Agent): Agent {
  for (const name of ["msg-all", "msg-second", "grp-msg"]) agent.on(name, echo);
  return agent.on(SCORE_MESSAGE, (message, context) => {
    const ip = message.get("ip");
    if (ip instanceof Ipv4Address) context.setVar("sess", "score", ip.bytes[3]);
  });
}
