// One HAProxy version × one agent runtime: rendered configs in a temp dir, six agent processes
// (ip_reputation on TCP and on a unix socket, echo, two echo agents behind one backend for
// failover, and the limits agent), one HAProxy. Every case of the combination shares them. Full logs and the rendered
// configs are written to .cache/e2e-logs/<version>-<runtime>/ when the combination stops.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "./_agents.ts";
import { type Ports, type Rendered, writeConfigs } from "./_configs.ts";
import { REPO, type Runtime, type Version } from "./_env.ts";
import { checkConfig, startHaproxy, waitServersUp } from "./_haproxy.ts";
import { freePorts } from "./_net.ts";
import type { Proc } from "./_proc.ts";

export type AgentName = "iprep" | "iprepUnix" | "echo" | "h1" | "h2" | "lim";

/** The HAProxy server (`backend/server`) in front of each agent. */
export const SERVER_OF: Record<AgentName, string> = {
  iprep: "be_iprep/i1",
  iprepUnix: "be_iprep_unix/u1",
  echo: "be_echo/e1",
  h1: "be_ha/h1",
  h2: "be_ha/h2",
  lim: "be_lim/l1",
};
export const ALL_SERVERS = Object.values(SERVER_OF);

// Temp dirs still in use, removed even when the run is interrupted (_proc.ts exits on signals).
const tempDirs = new Set<string>();
process.on("exit", () => {
  if (process.env.SPOA_E2E_KEEP === "1") return;
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

export class Combo {
  readonly version: Version;
  readonly runtime: Runtime;
  readonly dir: string;
  readonly ports: Ports;
  readonly cfg: Rendered;
  readonly agents: Record<AgentName, Agent>;
  haproxy: Proc | undefined;
  readonly haproxyHistory: Proc[] = [];

  private constructor(version: Version, runtime: Runtime, ports: Ports) {
    this.version = version;
    this.runtime = runtime;
    this.ports = ports;
    this.dir = mkdtempSync(join(tmpdir(), `spoa-e2e-${version}-${runtime}-`));
    tempDirs.add(this.dir);
    const unixPath = join(this.dir, "iprep.sock");
    this.cfg = writeConfigs(this.dir, version, ports, unixPath);
    const tcp = (p: number) => `127.0.0.1:${p}`;
    this.agents = {
      iprep: new Agent("iprep", runtime, "ip_reputation", tcp(ports.agentIprep)),
      iprepUnix: new Agent("iprep-unix", runtime, "ip_reputation", unixPath),
      echo: new Agent("echo", runtime, "echo", tcp(ports.agentEcho)),
      h1: new Agent("h1", runtime, "echo", tcp(ports.agentH1)),
      h2: new Agent("h2", runtime, "echo", tcp(ports.agentH2)),
      lim: new Agent("lim", runtime, "limits", tcp(ports.agentLim)),
    };
  }

  static async create(version: Version, runtime: Runtime): Promise<Combo> {
    const p = await freePorts(13);
    const ports: Ports = {
      ready: p[0],
      iprep: p[1],
      iprepSrc: p[2],
      echo: p[3],
      conc: p[4],
      frag: p[5],
      ha: p[6],
      agentIprep: p[7],
      agentEcho: p[8],
      agentH1: p[9],
      agentH2: p[10],
      lim: p[11],
      agentLim: p[12],
    };
    return new Combo(version, runtime, ports);
  }

  /** Validates the config, starts the agents, then HAProxy; waits for every server UP. */
  async start(): Promise<void> {
    await checkConfig(this.version, this.cfg.haproxyCfg);
    await Promise.all(Object.values(this.agents).map((a) => a.start()));
    await this.startHaproxy();
    await waitServersUp(this.cfg.statsSock, ALL_SERVERS);
  }

  /** Starts HAProxy; with `reload`, the new process soft-stops the current one (-sf). */
  async startHaproxy(reload = false): Promise<Proc> {
    const old = reload ? this.haproxy?.pid : undefined;
    const p = await startHaproxy(this.version, this.cfg.haproxyCfg, this.ports.ready, old);
    this.haproxy = p;
    this.haproxyHistory.push(p);
    return p;
  }

  /** Tail of every log, for a failing case. */
  diagnostics(lines = 40): string {
    const parts = this.haproxyHistory.map((p, i) =>
      `===== HAProxy ${this.version} #${i + 1} (pid ${p.pid}) last ${lines} lines\n${p.tail(lines)}`
    );
    for (const a of Object.values(this.agents)) {
      for (const [i, p] of a.history.entries()) {
        parts.push(
          `===== agent ${a.name} #${i + 1} (${this.runtime}, pid ${p.pid}) last ${lines} lines\n${
            p.tail(lines)
          }`,
        );
      }
    }
    return parts.join("\n");
  }

  logDir(): string {
    return join(REPO, ".cache/e2e-logs", `${this.version}-${this.runtime}`);
  }

  async stop(): Promise<void> {
    await Promise.all([
      ...this.haproxyHistory.map((p) => p.stop()),
      ...Object.values(this.agents).map((a) => a.stop()),
    ]);
    const dir = this.logDir();
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    this.haproxyHistory.forEach((p, i) =>
      writeFileSync(join(dir, `haproxy-${i + 1}.log`), p.output())
    );
    for (const a of Object.values(this.agents)) writeFileSync(join(dir, `${a.name}.log`), a.logs());
    copyFileSync(this.cfg.haproxyCfg, join(dir, "haproxy.cfg"));
    copyFileSync(this.cfg.spoeConf, join(dir, "spoe.conf"));
    if (process.env.SPOA_E2E_KEEP !== "1") rmSync(this.dir, { recursive: true, force: true });
    tempDirs.delete(this.dir);
  }
}
