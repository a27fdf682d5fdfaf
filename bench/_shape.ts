/**
 * The shapes of the benchmark's NOTIFY frames and the answers they call for,
 * shared by the load generator (bench/loadgen.ts) and the in-process engine
 * benchmark (bench/engine_bench.ts).
 *
 * A NOTIFY carries `messages` messages. Each message is `get-ip-reputation`
 * (sync handler) or `get-ip-reputation-async` (a handler that awaits one
 * already-resolved promise) with `args` arguments: `args - 1` small fillers
 * (`arg1`, `arg2`…, INT32 and short STRING in turn) that the handler never
 * reads, then the IPv4 `ip` it reads (last, so that a lookup by name walks them
 * all), then, if `payload` > 0, a STRING `payload` of that many bytes that it
 * never reads either. The right answer to each message is
 * `set-var(sess.ip_score)` = the last byte of its `ip`, in message order.
 *
 * @module
 */

import { type Action, ActionType, DataType, VarScope } from "../mod.ts";
import { ByteWriter } from "../src/codec/mod.ts";

/** What one benchmark NOTIFY looks like. */
export interface Shape {
  /** Messages per NOTIFY frame. */
  messages: number;
  /** Bytes of the unread STRING argument `payload` (0: no such argument). */
  payload: number;
  /** Arguments per message besides `payload`, `ip` included (≥ 1). */
  args: number;
  /** Whether the messages go to the async handler. */
  async: boolean;
}

/** The message names bench/agent.ts answers: sync and async handler. */
export const MESSAGE = "get-ip-reputation";
export const ASYNC_MESSAGE = "get-ip-reputation-async";
/** The session variable the agent sets. */
export const SCORE_VAR = "ip_score";

/** A short name for a shape, as the tables print it. */
export function shapeName(shape: Shape): string {
  const parts = [shape.async ? "async" : "sync"];
  if (shape.messages !== 1) parts.push(`${shape.messages} msg/frame`);
  if (shape.args !== 1) parts.push(`${shape.args} args`);
  if (shape.payload > 0) {
    parts.push(shape.payload % 1024 === 0 ? `${shape.payload / 1024} KiB` : `${shape.payload} B`);
  }
  return parts.join(", ");
}

/**
 * The payload of one NOTIFY with zeroed addresses, and the offset of each
 * message's 4 address bytes in it.
 */
export function notifyTemplate(shape: Shape): { bytes: Uint8Array; ipAt: number[] } {
  const w = new ByteWriter(64 + shape.messages * (shape.payload + 32 * shape.args + 64));
  const ipAt: number[] = [];
  const filler = "x".repeat(shape.payload);
  for (let m = 0; m < shape.messages; m++) {
    w.string(shape.async ? ASYNC_MESSAGE : MESSAGE);
    w.u8(shape.args + (shape.payload > 0 ? 1 : 0));
    for (let a = 1; a < shape.args; a++) {
      w.string(`arg${a}`);
      if (a % 2 === 1) {
        w.u8(DataType.Int32);
        w.varint(1000 + a);
      } else {
        w.u8(DataType.String);
        w.string(`value-${a}`);
      }
    }
    w.string("ip");
    w.u8(DataType.Ipv4);
    ipAt.push(w.length);
    w.u32(0);
    if (shape.payload > 0) {
      w.string("payload");
      w.u8(DataType.String);
      w.string(filler);
    }
  }
  return { bytes: w.take(), ipAt };
}

/** The bytes of one right action minus its value byte: set-var sess "ip_score" INT64. */
export function actionPrefix(): Uint8Array {
  const w = new ByteWriter(32);
  w.u8(ActionType.SetVar);
  w.u8(3);
  w.u8(VarScope.Session);
  w.string(SCORE_VAR);
  w.u8(DataType.Int64);
  return w.take();
}

/**
 * Compares decoded actions with the right answers (one score per message, in
 * order); returns what is wrong, or `undefined` when they match.
 */
export function checkActions(
  actions: readonly Action[],
  scores: readonly number[],
): string | undefined {
  if (actions.length !== scores.length) {
    return `${actions.length} actions, expected ${scores.length}`;
  }
  for (let m = 0; m < scores.length; m++) {
    const action = actions[m];
    const isInt = action.type === ActionType.SetVar &&
      action.value.type >= DataType.Int32 && action.value.type <= DataType.Uint64;
    if (
      !isInt || action.type !== ActionType.SetVar || action.scope !== VarScope.Session ||
      action.name !== SCORE_VAR || Number(action.value.value) !== scores[m]
    ) {
      return `action ${m}: ${
        JSON.stringify(action, (_, v) => typeof v === "bigint" ? String(v) : v)
      }, expected set-var sess.${SCORE_VAR} = ${scores[m]}`;
    }
  }
  return undefined;
}
