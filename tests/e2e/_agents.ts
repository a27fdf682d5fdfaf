// Agent processes: the examples (and the suite's own limits agent) run unchanged on Deno, Bun or Node 24, listening on a loopback
// TCP port or a unix socket path. `Agent` survives restarts (a new process on the same address).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EXAMPLES_DIR, type Runtime, runtimeBin } from "./_env.ts";
import { tcpListening, unixListening } from "./_net.ts";
import { Proc, waitFor } from "./_proc.ts";

/** An example, or "limits": the suite's own agent with small limits (_limits_agent.ts). */
export type Example =
  | "ip_reputation"
  | "echo"
  | "jwt_auth"
  | "body_inspect"
  | "async_lookup"
  | "rate_limit"
  | "limits";

const LIMITS_AGENT = join(dirname(fileURLToPath(import.meta.url)), "_limits_agent.ts");

/**
 * Deno's permissions for the examples the README gives them for (the others run with -A);
 * `--print-config` adds --allow-write.
 */
const DENO_PERMISSIONS: Partial<Record<Example, string[]>> = {
  jwt_auth: ["--allow-net", "--allow-read"],
  body_inspect: ["--allow-net"],
  async_lookup: ["--allow-net"],
  rate_limit: ["--allow-net", "--allow-env"],
};

/** The command that runs `example` on `runtime`, listening on `addr`, with `args` after it. */
export function agentCommand(
  runtime: Runtime,
  example: Example,
  addr: string,
  args: readonly string[] = [],
): string[] {
  const file = example === "limits" ? LIMITS_AGENT : join(EXAMPLES_DIR, `${example}.ts`);
  switch (runtime) {
    case "deno": {
      const permissions = DENO_PERMISSIONS[example];
      const flags = !permissions
        ? ["-A"]
        : args.includes("--print-config")
        ? [...permissions, "--allow-write"]
        : permissions;
      return [runtimeBin("deno"), "run", ...flags, file, addr, ...args];
    }
    case "bun":
      return [runtimeBin("bun"), "run", file, addr, ...args];
    case "node":
      return [runtimeBin("node"), file, addr, ...args];
  }
}

/** What counts as a problem in an agent log (the check behind "the agent logs no error"). */
export const AGENT_ERROR = /\b(error|exception|uncaught|unhandled|panic)\b|ECONNRESET|EPIPE/i;

export class Agent {
  readonly name: string;
  readonly runtime: Runtime;
  readonly example: Example;
  /** `HOST:PORT` or a unix socket path, as passed to the example. */
  readonly addr: string;
  /** The example's own options, after the address. */
  readonly args: readonly string[];
  proc: Proc | undefined;
  /** Every process this agent ever had (logs of previous incarnations stay readable). */
  readonly history: Proc[] = [];

  constructor(
    name: string,
    runtime: Runtime,
    example: Example,
    addr: string,
    args: readonly string[] = [],
  ) {
    this.name = name;
    this.runtime = runtime;
    this.example = example;
    this.addr = addr;
    this.args = args;
  }

  listening(): boolean {
    const m = /^127\.0\.0\.1:(\d+)$/.exec(this.addr);
    return m ? tcpListening(Number(m[1])) : unixListening(this.addr);
  }

  async start(): Promise<Proc> {
    if (this.proc?.running) throw new Error(`${this.name} is already running`);
    const [cmd, ...args] = agentCommand(this.runtime, this.example, this.addr, this.args);
    const p = new Proc(`${this.name} (${this.runtime})`, cmd, args, { flag: AGENT_ERROR });
    this.proc = p;
    this.history.push(p);
    await waitFor(
      `${this.name} (${this.runtime} ${this.example}) to listen on ${this.addr}`,
      20_000,
      () => {
        if (!p.running) throw new Error(`agent exited early:\n${p.tail(30)}`);
        return this.listening();
      },
      25,
    );
    return p;
  }

  /** Logs of every incarnation, oldest first. */
  logs(): string {
    return this.history.map((p, i) => `--- ${this.name} #${i + 1} (pid ${p.pid})\n${p.output()}`)
      .join("\n");
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
  }
}
