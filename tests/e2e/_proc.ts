// Child processes of the suite: each one runs in its own process group (so that wrappers and
// their children die together), its stdout/stderr are captured with timestamps, and every group
// still alive is killed when the test process ends, whatever the reason.
import { type ChildProcess, spawn } from "node:child_process";

/** The first HEAD_BYTES of output are always kept, then the last TAIL_BYTES. */
const HEAD_BYTES = 256 * 1024;
const TAIL_BYTES = 4 * 1024 * 1024;
const live = new Set<Proc>();

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcOptions {
  env?: Record<string, string>;
  /** Lines matching this are also kept apart, never dropped (see `flaggedSince`). */
  flag?: RegExp;
}

export class Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly started = Date.now();
  readonly exited: Promise<ExitInfo>;
  exit: ExitInfo | undefined;
  private readonly flag: RegExp | undefined;
  private readonly partial = { out: "", err: "" };
  // Captured lines (both streams interleaved, prefixed with the elapsed time): head + tail.
  private head: string[] = [];
  private headBytes = 0;
  private tailLines: string[] = [];
  private tailStart = 0;
  private tailBytes = 0;
  private dropped = 0;
  private lines = 0;
  private flagged: { n: number; line: string }[] = [];

  constructor(name: string, cmd: string, args: string[], opts: ProcOptions = {}) {
    this.name = name;
    this.flag = opts.flag;
    this.child = spawn(cmd, args, {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", ...opts.env },
    });
    if (this.child.pid === undefined) throw new Error(`${name}: spawn ${cmd} failed`);
    this.pid = this.child.pid;
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once("error", (e) => this.line("harness", `spawn error: ${e.message}`));
      this.child.once("close", (code, signal) => {
        for (const s of ["out", "err"] as const) if (this.partial[s]) this.line(s, this.partial[s]);
        this.exit = { code, signal };
        live.delete(this);
        this.line("harness", `exited code=${code} signal=${signal}`);
        resolve(this.exit);
      });
    });
    this.child.stdout!.on("data", (b: Buffer) => this.data("out", b));
    this.child.stderr!.on("data", (b: Buffer) => this.data("err", b));
  }

  private data(stream: "out" | "err", b: Buffer): void {
    const parts = (this.partial[stream] + b.toString("utf8")).split("\n");
    this.partial[stream] = parts.pop()!;
    for (const p of parts) this.line(stream, p);
  }

  private line(stream: string, text: string): void {
    const t = ((Date.now() - this.started) / 1000).toFixed(3).padStart(8);
    const line = `${t} ${stream}| ${text}`;
    this.lines++;
    if (this.flag?.test(text)) this.flagged.push({ n: this.lines, line });
    if (this.headBytes < HEAD_BYTES && this.tailLines.length === this.tailStart) {
      this.head.push(line);
      this.headBytes += line.length + 1;
      return;
    }
    this.tailLines.push(line);
    this.tailBytes += line.length + 1;
    while (this.tailBytes > TAIL_BYTES) {
      this.tailBytes -= this.tailLines[this.tailStart++].length + 1;
      this.dropped++;
    }
    if (this.tailStart > 50_000) {
      this.tailLines = this.tailLines.slice(this.tailStart);
      this.tailStart = 0;
    }
  }

  /** Number of lines so far: pass it to `flaggedSince(mark)` to see what came later. */
  mark(): number {
    return this.lines;
  }

  /** Flagged lines (see ProcOptions.flag) after `mark`. */
  flaggedSince(mark = 0): string[] {
    return this.flagged.filter((f) => f.n > mark).map((f) => f.line);
  }

  /** The captured output (its middle is left out when it grew beyond the limits). */
  output(): string {
    const gap = this.dropped ? [`[... ${this.dropped} lines left out ...]`] : [];
    return [...this.head, ...gap, ...this.tailLines.slice(this.tailStart)].join("\n") + "\n";
  }

  tail(lines = 60): string {
    const all = [...this.head, ...this.tailLines.slice(this.tailStart)];
    return all.slice(-lines).join("\n");
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Signal the whole process group (the process itself if the group is gone). */
  signal(sig: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        process.kill(this.pid, sig);
      } catch { /* already gone */ }
    }
  }

  /** Resolves with the exit status, or undefined if still running after `ms`. */
  async waitExit(ms: number): Promise<ExitInfo | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms));
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; always leaves no process behind. */
  async stop(graceMs = 3000): Promise<ExitInfo> {
    if (this.running) {
      this.signal("SIGTERM");
      if (!(await this.waitExit(graceMs))) this.signal("SIGKILL");
    }
    const exit = await this.waitExit(5000);
    // The leader may be gone while members of its group live on: sweep the group.
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch { /* no such group: fine */ }
    return exit ?? { code: null, signal: "SIGKILL" };
  }
}

export function killAll(): void {
  for (const p of live) {
    try {
      process.kill(-p.pid, "SIGKILL");
    } catch { /* gone */ }
  }
}

process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every `everyMs` until it returns a truthy value; throws after `ms`. */
export async function waitFor<T>(
  what: string,
  ms: number,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (let i = 0; i < 100_000; i++) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) break;
    await sleep(everyMs);
  }
  const why = lastError ? ` (last error: ${(lastError as Error).message})` : "";
  throw new Error(`timed out after ${ms} ms waiting for ${what}${why}`);
}
