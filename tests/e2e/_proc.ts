// Child processes of the suite: each one runs in its own process group (so that wrappers and
// their children die together), its stdout/stderr are captured with timestamps, and every group
// still alive is killed when the test process ends, whatever the reason.
import { type ChildProcess, spawn } from "node:child_process";

const LOG_LIMIT = 4 * 1024 * 1024;
const live = new Set<Proc>();

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly started = Date.now();
  readonly exited: Promise<ExitInfo>;
  exit: ExitInfo | undefined;
  /** Captured output, both streams interleaved, each line prefixed by the elapsed time. */
  private log = "";
  private dropped = 0;

  constructor(name: string, cmd: string, args: string[], env?: Record<string, string>) {
    this.name = name;
    this.child = spawn(cmd, args, {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", ...env },
    });
    if (this.child.pid === undefined) throw new Error(`${name}: spawn ${cmd} failed`);
    this.pid = this.child.pid;
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once("error", (e) => {
        this.append("harness", `spawn error: ${e.message}\n`);
      });
      this.child.once("close", (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        this.append("harness", `exited code=${code} signal=${signal}\n`);
        resolve(this.exit);
      });
    });
    this.child.stdout!.on("data", (b: Buffer) => this.append("out", b.toString("utf8")));
    this.child.stderr!.on("data", (b: Buffer) => this.append("err", b.toString("utf8")));
  }

  private append(stream: string, text: string): void {
    const t = ((Date.now() - this.started) / 1000).toFixed(3).padStart(8);
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    for (const line of lines) this.log += `${t} ${stream}| ${line}\n`;
    if (this.log.length > LOG_LIMIT) {
      const cut = this.log.length - LOG_LIMIT / 2;
      this.dropped += cut;
      this.log = this.log.slice(cut);
    }
  }

  /** Length of the captured log so far: pass it to `output(mark)` to read what came later. */
  mark(): number {
    return this.dropped + this.log.length;
  }

  output(since = 0): string {
    return this.log.slice(Math.max(0, since - this.dropped));
  }

  tail(lines = 60, since = 0): string {
    return this.output(since).split("\n").slice(-lines - 1).join("\n");
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
    const timeout = new Promise<undefined>((r) => timer = setTimeout(r, ms));
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
