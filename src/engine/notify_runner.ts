/**
 * Runs the handlers of each NOTIFY: one step per message, then the NOTIFY
 * handler, synchronously as long as they return plain values. A handler that
 * returns a promise puts its NOTIFY under the processing deadline (one timer
 * per connection); whatever happens (a throw, a rejection, a result that is
 * not an array of actions, a deadline passed) the NOTIFY gets exactly one
 * answer, and no continuation of a handler's promise can throw out of here.
 *
 * @module
 */

import type { Action } from "../codec/action.ts";
import { SpopError } from "../codec/errors.ts";
import { Status } from "../codec/status.ts";
import type { HandlerResult, MessageHandler, NotifyHandler, NotifyJob } from "./context.ts";
import type { NotifyOutcome } from "./events.ts";

/** Where the runner finds the handlers. */
export interface HandlerRegistry {
  /** The message handlers by message name. */
  readonly handlers: ReadonlyMap<string, MessageHandler>;
  /** The whole-NOTIFY handler, if any. */
  notifyHandler: NotifyHandler | undefined;
}

/** What the runner needs besides the handlers. */
export interface RunnerSettings {
  /** Milliseconds a NOTIFY may take once asynchronous; 0 for no deadline. */
  readonly processingTimeout: number;
  /** The actions of a NOTIFY whose handlers failed or ran out of time. */
  readonly fallbackActions: readonly Action[];
}

/** What the runner tells its connection. */
export interface RunnerEvents {
  /**
   * A NOTIFY's answer is decided (called once per job, never after `abandonAll`).
   *
   * @param job The NOTIFY.
   * @param actions The actions its ACK carries.
   * @param outcome How processing ended.
   * @param error The handler's error, for outcome "error".
   */
  finished(
    job: NotifyJob,
    actions: readonly Action[],
    outcome: NotifyOutcome,
    error?: unknown,
  ): void;
}

function notActions(result: unknown): TypeError {
  return new TypeError(
    `a handler returned ${typeof result} ${String(result).slice(0, 40)}: ` +
      `return nothing or an array of actions`,
  );
}

/** Appends a handler's result to the job's actions; false if it is not an array. */
function appendResult(job: NotifyJob, result: HandlerResult): boolean {
  if (result === undefined || result === null) return true;
  if (!Array.isArray(result)) return false;
  // No spread: a result of any length is appended without growing the call stack.
  for (let i = 0; i < result.length; i++) job.addAction(result[i]);
  return true;
}

/** Runs the NOTIFYs of one connection. */
export class NotifyRunner {
  #registry: HandlerRegistry;
  #settings: RunnerSettings;
  #events: RunnerEvents;
  /**
   * Asynchronous jobs in dispatch order, hence in deadline order, from
   * `#head` on; a finished job stays until the head passes it (cheaper than
   * removing it from the middle).
   */
  #queue: NotifyJob[] = [];
  #head = 0;
  #pendingCount = 0;
  #expiring = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onDeadline = () => this.#expire();

  /**
   * Creates the runner of a connection.
   *
   * @param registry The handlers.
   * @param settings Deadline and fallback actions.
   * @param events Where answers go.
   */
  constructor(registry: HandlerRegistry, settings: RunnerSettings, events: RunnerEvents) {
    this.#registry = registry;
    this.#settings = settings;
    this.#events = events;
  }

  /** The number of NOTIFYs waiting on a handler's promise. */
  get pending(): number {
    return this.#pendingCount;
  }

  /** The number of jobs the deadline queue holds, finished ones not yet dropped included. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Runs a NOTIFY's handlers from where it stands.
   *
   * @param job The NOTIFY.
   */
  run(job: NotifyJob): void {
    const messages = job.messages;
    const registry = this.#registry;
    const handlers = registry.handlers;
    while (job.step <= messages.length) {
      const step = job.step++;
      let result: HandlerResult | PromiseLike<HandlerResult>;
      try {
        if (step < messages.length) {
          const handler = handlers.get(messages[step].name);
          if (handler === undefined) continue;
          result = handler(messages[step], job);
        } else {
          const handler = registry.notifyHandler;
          if (handler === undefined) break;
          result = handler(messages, job);
        }
      } catch (error) {
        return this.#failed(job, error);
      }
      if (typeof result === "object" && result !== null && !Array.isArray(result)) {
        let then: unknown;
        try {
          then = (result as PromiseLike<HandlerResult>).then;
        } catch (error) {
          return this.#failed(job, error);
        }
        if (typeof then === "function") {
          return this.#await(job, result as PromiseLike<HandlerResult>);
        }
      }
      if (!appendResult(job, result as HandlerResult)) return this.#failed(job, notActions(result));
    }
    this.#finish(job, job.collected, "ok");
  }

  /**
   * Answers every NOTIFY still waiting with the fallback actions, its signal
   * fired with `reason` (a shutdown that cannot wait longer).
   *
   * @param reason The signal's reason.
   */
  answerAll(reason: unknown): void {
    const jobs = this.#queue.slice(this.#head);
    for (const job of jobs) {
      if (job.done) continue;
      job.abort(reason);
      this.#finish(job, this.#settings.fallbackActions, "shutdown");
    }
  }

  /**
   * Forgets every NOTIFY still waiting, without an answer (the connection is
   * closing), its signal fired with `reason`.
   *
   * @param reason The signal's reason.
   */
  abandonAll(reason: unknown): void {
    const queue = this.#queue;
    for (let i = this.#head; i < queue.length; i++) {
      const job = queue[i];
      if (job.done) continue;
      job.done = true;
      job.abort(reason);
    }
    this.#queue = [];
    this.#head = 0;
    this.#pendingCount = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #await(job: NotifyJob, result: PromiseLike<HandlerResult>): void {
    if (job.deadline === 0) {
      // Counted from the NOTIFY's dispatch, which the job noted.
      const timeout = this.#settings.processingTimeout;
      job.deadline = timeout > 0 ? job.startedAt + timeout : Infinity;
      this.#queue.push(job);
      this.#pendingCount++;
      if (this.#timer === undefined && timeout > 0) {
        this.#timer = setTimeout(this.#onDeadline, timeout);
      }
    }
    // A thenable may call back more than once, or both ways: only the first call counts.
    let settled = false;
    const step = job.step;
    const onValue = (value: HandlerResult) => {
      if (settled || job.done || job.step !== step) return;
      settled = true;
      try {
        if (!appendResult(job, value)) return this.#failed(job, notActions(value));
        this.run(job);
      } catch (error) {
        this.#failed(job, error);
      }
    };
    const onError = (error: unknown) => {
      if (settled || job.done) return;
      settled = true;
      this.#failed(job, error);
    };
    try {
      result.then(onValue, onError);
    } catch (error) {
      onError(error);
    }
  }

  #failed(job: NotifyJob, error: unknown): void {
    if (job.done) return;
    this.#finish(job, this.#settings.fallbackActions, "error", error);
  }

  /** Fires the deadline of every pending NOTIFY whose time has come. */
  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    const queue = this.#queue;
    this.#expiring = true;
    while (this.#head < queue.length) {
      const job = queue[this.#head];
      if (!job.done) {
        if (job.deadline > now) {
          this.#timer = setTimeout(this.#onDeadline, job.deadline - now);
          break;
        }
        job.abort(new SpopError(Status.Timeout, "processing deadline passed"));
        this.#finish(job, this.#settings.fallbackActions, "deadline");
      }
      this.#head++;
    }
    this.#expiring = false;
    this.#compact();
  }

  /**
   * Drops finished jobs: those at the head at once, and the others once they
   * are most of the queue (a job that never settles at the head must not make
   * the queue keep every job finished behind it).
   */
  #compact(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && queue[this.#head].done) this.#head++;
    const live = queue.length - this.#head;
    if (live === 0) {
      queue.length = 0;
      this.#head = 0;
    } else if (live > 1024 && live > 2 * this.#pendingCount) {
      this.#queue = queue.slice(this.#head).filter((job) => !job.done);
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #finish(
    job: NotifyJob,
    actions: readonly Action[],
    outcome: NotifyOutcome,
    error?: unknown,
  ): void {
    if (job.done) return;
    job.done = true;
    // The deadline timer stays armed: it stops by itself when it finds nothing pending, which
    // costs less than a clearTimeout and a setTimeout per asynchronous NOTIFY.
    if (job.deadline !== 0) {
      this.#pendingCount--;
      if (!this.#expiring) this.#compact();
    }
    this.#events.finished(job, actions, outcome, error);
  }
}
