// An example agent (examples/*.ts) as its own process, on the runtime running the tests: started
// on a free loopback port, stopped with SIGTERM. Run from the compiled npm package
// (scripts/npm_check.sh), this file is .js and so are the examples beside it.
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeName as detectRuntime } from "../_runtime.ts";
import { within } from "../_timing.ts";

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: string | null;
}

/**
 * The command that runs `file` on the runtime running this code, with the example's own options
 * `args`; Deno gets `--allow-net` and the `permissions` given.
 */
function commandFor(
  file: string,
  address: string,
  args: readonly string[],
  permissions: readonly string[],
): [string, string[]] {
  switch (detectRuntime()) {
    case "deno":
      return [process.execPath, ["run", "--allow-net", ...permissions, file, address, ...args]];
    default:
      return [process.execPath, [file, address, ...args]];
  }
}

/** Options of {@linkcode ExampleProcess.start}. */
export interface StartOptions {
  /** The example's own options, after the address. */
  args?: readonly string[];
  /** Deno permissions beyond --allow-net, such as `--allow-read`. */
  permissions?: readonly string[];
}

/** A running example agent. */
export class ExampleProcess {
  readonly child: ChildProcess;
  /** Settles when the process has exited and its output is closed. */
  readonly exited: Promise<Exit>;
  /** The port it listens on. */
  port = 0;
  /** The port of its metrics endpoint, when started with `--metrics`. */
  metricsPort = 0;
  #output = "";

  private constructor(child: ChildProcess) {
    this.child = child;
    child.stdout?.setEncoding("utf8").on("data", (text: string) => void (this.#output += text));
    child.stderr?.setEncoding("utf8").on("data", (text: string) => void (this.#output += text));
    this.exited = new Promise((resolve) => {
      child.once("close", (code, signal) => resolve({ code, signal }));
    });
  }

  /** Everything it printed so far, stdout and stderr. */
  get output(): string {
    return this.#output;
  }

  /**
   * Runs `examples/<name>` on 127.0.0.1, port 0, without waiting for anything.
   *
   * @param name The example, without extension.
   * @param options Its own options, and the Deno permissions they need.
   */
  static spawn(name: string, options: StartOptions = {}): ExampleProcess {
    // Beside the source tree's .ts files, or the npm check's compiled .js files.
    const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
    const file = fileURLToPath(new URL(`../../examples/${name}${extension}`, import.meta.url));
    const [command, args] = commandFor(
      file,
      "127.0.0.1:0",
      options.args ?? [],
      options.permissions ?? [],
    );
    return new ExampleProcess(spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] }));
  }

  /**
   * Starts `examples/<name>` on 127.0.0.1, port 0, and waits for its "listening on" line.
   *
   * @param name The example, without extension.
   * @param options Its own options, and the Deno permissions they need.
   */
  static async start(name: string, options: StartOptions = {}): Promise<ExampleProcess> {
    const example = ExampleProcess.spawn(name, options);
    try {
      await within(
        new Promise<void>((resolve, reject) => {
          const check = () => {
            const match = /listening on (\{.*\})\n/.exec(example.output);
            if (match) {
              example.port = (JSON.parse(match[1]) as { port: number }).port;
              const metrics = /metrics on http:\/\/[^ ]*:(\d+)\/metrics/.exec(example.output);
              if (metrics) example.metricsPort = Number(metrics[1]);
              resolve();
            }
          };
          example.child.stdout?.on("data", check);
          example.exited.then(({ code, signal }) =>
            reject(new Error(`${name} exited (${code ?? signal}) before listening`))
          );
        }),
        20_000,
        `${name} to listen`,
      );
    } catch (error) {
      example.kill();
      await example.exited;
      throw new Error(`${(error as Error).message}\n${example.output}`);
    }
    return example;
  }

  /** Sends SIGTERM and waits (up to 10 s) for the exit. */
  async stop(): Promise<Exit> {
    // process.kill, not child.kill: after child.kill(), Deno's node:child_process reports the
    // signal as the cause of any exit, even a clean exit(0) from the signal's handler.
    process.kill(this.child.pid!, "SIGTERM");
    return await within(this.exited, 10_000, "the example to exit after SIGTERM");
  }

  /** Ends the process at once if it still runs (cleanup after a failure). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
    }
  }
}
