// The notify runner alone: handler steps in order, one answer per NOTIFY whatever the handlers
// do, and the deadline of asynchronous ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Action, setVar } from "../../src/codec/action.ts";
import { Message } from "../../src/codec/message.ts";
import { type MessageHandler, type NotifyHandler, NotifyJob } from "../../src/engine/context.ts";
import type { NotifyOutcome } from "../../src/engine/events.ts";
import { type HandlerRegistry, NotifyRunner } from "../../src/engine/notify_runner.ts";
import { delay, tick } from "./_helpers.ts";

const FALLBACK = [setVar("txn", "fallback", true)];

function setup(
  handlers: Record<string, MessageHandler>,
  options: { notifyHandler?: NotifyHandler; processingTimeout?: number } = {},
) {
  const answers: Array<{ job: NotifyJob; actions: readonly Action[]; outcome: NotifyOutcome }> = [];
  const registry: HandlerRegistry = {
    handlers: new Map(Object.entries(handlers)),
    notifyHandler: options.notifyHandler,
  };
  const runner = new NotifyRunner(
    registry,
    { processingTimeout: options.processingTimeout ?? 0, fallbackActions: FALLBACK },
    { finished: (job, actions, outcome) => answers.push({ job, actions, outcome }) },
  );
  let streamId = 1;
  const run = (...names: string[]) => {
    const job = new NotifyJob(
      { engineId: "e", remoteAddress: "r" },
      streamId += 2,
      1,
      names.map((name) => new Message(name, [])),
      performance.now(),
    );
    runner.run(job);
    return job;
  };
  return { runner, answers, run };
}

const names = (actions: readonly Action[]) => actions.map((action) => action.name);

test("NotifyRunner runs sync handlers in message order, then the NOTIFY handler, and answers at once", () => {
  const order: string[] = [];
  const { answers, run } = setup({
    a: (_m, c) => void (order.push("a"), c.setVar("txn", "a", 1)),
    b: () => (order.push("b"), [setVar("txn", "b", 2)]),
  }, { notifyHandler: () => void order.push("notify") });
  run("a", "unknown", "b");
  assert.deepEqual(order, ["a", "b", "notify"]);
  assert.equal(answers.length, 1);
  assert.equal(answers[0].outcome, "ok");
  assert.deepEqual(names(answers[0].actions), ["a", "b"]);
});

test("NotifyRunner continues after an async handler and answers once with all actions", async () => {
  const { runner, answers, run } = setup({
    a: async (_m, c) => {
      await delay(1);
      c.setVar("txn", "a", 1);
    },
    b: () => [setVar("txn", "b", 2)],
  });
  run("a", "b");
  assert.equal(runner.pending, 1);
  assert.equal(answers.length, 0);
  await delay(20);
  assert.equal(answers.length, 1);
  assert.deepEqual(names(answers[0].actions), ["a", "b"]);
  assert.equal(runner.pending, 0);
});

for (
  const [what, handler] of [
    ["throws", () => {
      throw new Error("x");
    }],
    ["rejects", () => Promise.reject(new Error("x"))],
    ["returns a string", () => "nope" as unknown as undefined],
    ["resolves to a number", () => Promise.resolve(7 as unknown as undefined)],
    ["returns a thenable whose then() throws", () =>
      ({
        then() {
          throw new Error("then");
        },
      }) as unknown as Promise<undefined>],
  ] as const
) {
  test(`NotifyRunner answers a NOTIFY whose handler ${what} with the fallback actions, once`, async () => {
    let later = 0;
    const { answers, run } = setup({ bad: handler, later: () => void later++ });
    run("bad", "later");
    await tick();
    assert.equal(answers.length, 1);
    assert.equal(answers[0].outcome, "error");
    assert.equal(answers[0].actions, FALLBACK);
    assert.equal(later, 0, "later handlers of the same NOTIFY do not run");
  });
}

test("NotifyRunner fires deadlines in order with one timer, and ignores late results", async () => {
  const signals: AbortSignal[] = [];
  const { answers, run } = setup({
    slow: (_m, c) => {
      signals.push(c.signal);
      return new Promise((resolve) => setTimeout(() => resolve([setVar("txn", "late", 1)]), 80));
    },
  }, { processingTimeout: 30 });
  run("slow");
  await delay(10);
  run("slow");
  await delay(60);
  assert.deepEqual(answers.map((answer) => answer.outcome), ["deadline", "deadline"]);
  assert.ok(signals.every((signal) => signal.aborted));
  await delay(80);
  assert.equal(answers.length, 2, "the late results send nothing");
});

test("NotifyRunner.answerAll() answers pending NOTIFYs with the fallback; abandonAll() answers none", async () => {
  const never = () => new Promise<undefined>(() => {});
  const first = setup({ never });
  first.run("never");
  first.run("never");
  first.runner.answerAll(new Error("shutdown"));
  assert.deepEqual(first.answers.map((answer) => answer.outcome), ["shutdown", "shutdown"]);
  assert.ok(first.answers.every((answer) => answer.job.signal.aborted));

  const second = setup({ never }, { processingTimeout: 10 });
  const job = second.run("never");
  second.runner.abandonAll(new Error("closed"));
  await delay(30);
  assert.equal(second.answers.length, 0);
  assert.equal(job.signal.aborted, true);
  assert.equal(second.runner.pending, 0);
});

test("NotifyRunner does not keep finished jobs behind one that never settles", async () => {
  const { runner, answers, run } = setup({
    never: () => new Promise<undefined>(() => {}),
    quick: () => Promise.resolve(undefined),
  });
  run("never");
  for (let i = 0; i < 5000; i++) run("quick");
  await tick();
  assert.equal(answers.length, 5000);
  assert.equal(runner.pending, 1);
  // The queue holds the stuck job and at most a bounded tail of finished ones.
  assert.ok(runner.queued <= 1 + 2048, `${runner.queued} jobs queued`);
  runner.abandonAll(new Error("closed"));
  assert.equal(runner.queued, 0);
});

test("NotifyRunner takes null and undefined from a handler as no actions, and says what else it refuses", () => {
  const errors: unknown[] = [];
  const registry: HandlerRegistry = {
    handlers: new Map(Object.entries({
      none: () => null as never,
      nothing: () => undefined,
      number: () => 5 as never,
      long: () => ("x".repeat(100)) as never,
    } as Record<string, MessageHandler>)),
    notifyHandler: undefined,
  };
  const outcomes: NotifyOutcome[] = [];
  const runner = new NotifyRunner(registry, { processingTimeout: 0, fallbackActions: FALLBACK }, {
    finished: (_job, _actions, outcome, error) => {
      outcomes.push(outcome);
      errors.push(error);
    },
  });
  const job = (name: string) =>
    new NotifyJob({ engineId: "e", remoteAddress: "r" }, 1, 1, [new Message(name, [])], 0);
  runner.run(job("none"));
  runner.run(job("nothing"));
  runner.run(job("number"));
  runner.run(job("long"));
  assert.deepEqual(outcomes, ["ok", "ok", "error", "error"]);
  assert.equal(
    (errors[2] as Error).message,
    "a handler returned number 5: return nothing or an array of actions",
  );
  assert.equal(
    (errors[3] as Error).message,
    `a handler returned string ${"x".repeat(40)}: return nothing or an array of actions`,
  );
});

test("NotifyRunner answers with the fallback when reading a result's then throws, with that error", () => {
  const thrown = new Error("no then for you");
  const trap = Object.defineProperty({}, "then", {
    get() {
      throw thrown;
    },
  });
  const errors: unknown[] = [];
  const runner = new NotifyRunner(
    { handlers: new Map([["t", () => trap as never]]), notifyHandler: undefined },
    { processingTimeout: 0, fallbackActions: FALLBACK },
    {
      finished: (_job, actions, outcome, error) => {
        assert.deepEqual([actions, outcome], [FALLBACK, "error"]);
        errors.push(error);
      },
    },
  );
  runner.run(new NotifyJob({ engineId: "e", remoteAddress: "r" }, 1, 1, [new Message("t", [])], 0));
  assert.deepEqual(errors, [thrown]);
});

test("NotifyRunner: a thenable that calls back twice counts once, and later handlers run once", async () => {
  let second = 0;
  const gate = Promise.withResolvers<void>();
  const { answers, run } = setup({
    twice: () =>
      ({
        then(onValue: (value: Action[]) => void) {
          onValue([setVar("txn", "first", 1)]);
          queueMicrotask(() => onValue([setVar("txn", "again", 2)]));
        },
      }) as never,
    later: async (_m, c) => {
      second++;
      await gate.promise;
      c.setVar("txn", "later", 3);
    },
  });
  run("twice", "later");
  await tick();
  gate.resolve();
  await tick();
  assert.equal(second, 1, "the next handler ran once");
  assert.equal(answers.length, 1);
  assert.deepEqual(names(answers[0].actions), ["first", "later"]);
});

test("NotifyRunner: the processing deadline counts from the first await, not from each one", async () => {
  // Two asynchronous handlers of 60 ms each against a 100 ms deadline.
  const { answers, run } = setup({
    a: async (_m, c) => void (await delay(60), c.setVar("txn", "a", 1)),
    b: async (_m, c) => void (await delay(60), c.setVar("txn", "b", 2)),
  }, { processingTimeout: 100 });
  const job = run("a", "b");
  await delay(200);
  assert.equal(answers.length, 1);
  assert.equal(answers[0].outcome, "deadline");
  assert.deepEqual(answers[0].actions, FALLBACK);
  const reason = job.signal.reason as { status?: number; message?: string };
  assert.equal(reason.status, 2);
  assert.equal(reason.message, "processing deadline passed");
});

test("NotifyRunner: processingTimeout 0 means no deadline at all", async () => {
  const { answers, run } = setup({
    slow: async (_m, c) => void (await delay(40), c.setVar("txn", "slow", 1)),
  }, { processingTimeout: 0 });
  run("slow");
  await delay(10);
  assert.equal(answers.length, 0, "no answer before the handler is done");
  await delay(60);
  assert.equal(answers.length, 1);
  assert.equal(answers[0].outcome, "ok");
  assert.deepEqual(names(answers[0].actions), ["slow"]);
});

test("NotifyRunner.abandonAll(): a handler that finishes afterwards gets no answer, and its signal fired", async () => {
  const gate = Promise.withResolvers<void>();
  const { runner, answers, run } = setup({
    held: async (_m, c) => void (await gate.promise, c.setVar("txn", "late", 1)),
  });
  const job = run("held");
  await tick();
  const reason = new Error("the connection closed");
  runner.abandonAll(reason);
  assert.equal(job.signal.aborted, true);
  assert.equal(job.signal.reason, reason);
  gate.resolve();
  await tick();
  assert.equal(answers.length, 0);
  assert.equal(runner.pending, 0);
});
