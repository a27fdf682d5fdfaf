// Request load through HAProxy. Every request carries a unique value in `x-val`; the frontend
// prints `v=<value echoed by the agent>` and `err=<set-on-error variable>`.
import { parseKv, request } from "./_net.ts";
import { sleep } from "./_proc.ts";

export type Kind = "ok" | "spoe-error" | "wrong" | "client-error";

export interface Outcome {
  value: string;
  start: number;
  end: number;
  kind: Kind;
  detail: string;
}

export async function echoValue(port: number, value: string, timeoutMs: number): Promise<Outcome> {
  const start = Date.now();
  let kind: Kind;
  let detail = "";
  try {
    const r = await request({ port, path: "/", headers: { "x-val": value }, timeoutMs });
    const kv = parseKv(r.body);
    if (r.status === 200 && kv.v === value && kv.err === "") kind = "ok";
    else if (r.status === 200 && kv.v === "" && kv.err !== "" && kv.err !== undefined) {
      kind = "spoe-error";
      detail = `err=${kv.err}`;
    } else {
      kind = "wrong";
      detail = `status ${r.status} body ${JSON.stringify(r.body)}`;
    }
  } catch (e) {
    kind = "client-error";
    detail = (e as Error).message;
  }
  return { value, start, end: Date.now(), kind, detail };
}

/** Fires `n` requests at once and waits for all of them. */
export function burst(port: number, n: number, tag: string, timeoutMs = 20_000) {
  return Promise.all(
    Array.from({ length: n }, (_, i) => echoValue(port, `${tag}-${i}`, timeoutMs)),
  );
}

export interface Load {
  /** Stops the workers and returns every outcome once the last request has ended. */
  stop(): Promise<Outcome[]>;
  completed(): number;
}

/** `workers` closed loops of requests until stop() (at most 60 s, a safety bound). */
export function startLoad(port: number, workers: number, tag: string, timeoutMs = 5000): Load {
  const outcomes: Outcome[] = [];
  let stopped = false;
  const deadline = Date.now() + 60_000;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; !stopped && Date.now() < deadline; i++) {
      outcomes.push(await echoValue(port, `${tag}-${w}-${i}`, timeoutMs));
      // A request that fails at once must not turn the loop into a busy spin.
      if (outcomes.at(-1)!.kind === "client-error") await sleep(10);
    }
  });
  return {
    completed: () => outcomes.length,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return outcomes;
    },
  };
}

export function countKinds(outcomes: Outcome[]): Record<Kind, number> {
  const c: Record<Kind, number> = { ok: 0, "spoe-error": 0, wrong: 0, "client-error": 0 };
  for (const o of outcomes) c[o.kind]++;
  return c;
}

/** Up to `n` distinct non-ok outcomes, for assertion messages. */
export function sampleFailures(outcomes: Outcome[], n = 5): string {
  return outcomes.filter((o) => o.kind !== "ok").slice(0, n).map((o) =>
    `${o.value}: ${o.kind} ${o.detail} (${o.end - o.start} ms)`
  ).join("; ");
}
