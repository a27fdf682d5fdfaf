// One HAProxy process: config check, start in the foreground (-db), readiness, the stats socket,
// reload (a new process with -sf, which soft-stops the old one with SIGUSR1) and soft stop.
import { execFile } from "node:child_process";
import net from "node:net";
import { haproxyBin, type Version } from "./_env.ts";
import { request } from "./_net.ts";
import { Proc, waitFor } from "./_proc.ts";

/** `haproxy -c -V -f cfg`: rejects unless the config is valid and draws no warning. */
export function checkConfig(v: Version, cfg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(haproxyBin(v), ["-c", "-V", "-f", cfg], { timeout: 20_000 }, (err, out, errOut) => {
      const text = `${out}${errOut}`;
      if (
        err || !text.includes("Configuration file is valid") || /\[(WARNING|ALERT)\]/.test(text)
      ) {
        reject(new Error(`haproxy ${v} rejects ${cfg}:\n${text}`));
      } else resolve(text);
    });
  });
}

/** HAProxy log lines kept apart: failed health checks, SPOE errors (normal events are not logged). */
export const HAPROXY_PROBLEM = /Health check for server \S+ failed|SPOE: |ALERT/;

/**
 * Starts HAProxy in the foreground and waits until `GET /ready` on `readyPort` answers with a
 * status `ready` accepts (200 by default).
 */
export function startHaproxy(
  v: Version,
  cfg: string,
  readyPort: number,
  softStopPid?: number,
  ready: (status: number) => boolean = (status) => status === 200,
) {
  const args = ["-db", "-f", cfg];
  if (softStopPid !== undefined) args.push("-sf", String(softStopPid));
  const p = new Proc(`haproxy-${v}`, haproxyBin(v), args, { flag: HAPROXY_PROBLEM });
  return waitFor(`haproxy ${v} to answer on port ${readyPort}`, 10_000, async () => {
    if (!p.running) throw new Error(`haproxy exited early:\n${p.tail(30)}`);
    const r = await request({ port: readyPort, path: "/ready", timeoutMs: 1000 });
    return ready(r.status) && p;
  }, 50).catch(async (e) => {
    await p.stop();
    throw e;
  });
}

/** Sends one command to the stats socket and returns the whole answer. */
export function statsCommand(sock: string, cmd: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const c = net.connect(sock, () => c.write(`${cmd}\n`));
    c.setTimeout(timeoutMs, () => c.destroy(new Error(`stats socket timeout on "${cmd}"`)));
    c.on("data", (b: Buffer) => chunks.push(b));
    c.on("error", reject);
    c.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

export interface ServerStat {
  backend: string;
  server: string;
  status: string;
  checkStatus: string;
  checkDesc: string;
  /** Failed checks so far (`chkfail`). */
  checkFailures: string;
}

/** `show stat` rows of the servers (not the FRONTEND/BACKEND lines). */
export async function showServers(sock: string): Promise<ServerStat[]> {
  const text = await statsCommand(sock, "show stat");
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (!lines[0]?.startsWith("# ")) throw new Error(`unexpected show stat output: ${text}`);
  const cols = lines[0].slice(2).split(",");
  const at = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`show stat: no column ${name}`);
    return i;
  };
  const [px, sv, st, cs, cd, cf] = [
    "pxname",
    "svname",
    "status",
    "check_status",
    "check_desc",
    "chkfail",
  ]
    .map(at);
  return lines.slice(1).map((l) => l.split(",")).filter((f) =>
    f[sv] !== "FRONTEND" && f[sv] !== "BACKEND"
  ).map((f) => ({
    backend: f[px],
    server: f[sv],
    status: f[st],
    checkStatus: f[cs].replace(/^\* /, ""), // "* " = a check is running right now
    checkDesc: f[cd],
    checkFailures: f[cf],
  }));
}

/** Waits until every `backend/server` listed is UP with a passed layer-7 check. */
export function waitServersUp(sock: string, names: string[], ms = 15_000) {
  let last: ServerStat[] = [];
  return waitFor(`servers ${names.join(", ")} UP`, ms, async () => {
    last = await showServers(sock);
    return names.every((n) =>
      last.some((s) =>
        `${s.backend}/${s.server}` === n && s.status === "UP" && s.checkStatus === "L7OK"
      )
    ) && last;
  }, 100).catch((e) => {
    const state = last.map((s) => `${s.backend}/${s.server} ${s.status} ${s.checkStatus}`);
    throw new Error(`${(e as Error).message}; last state: ${state.join("; ")}`);
  });
}

/** Waits until `backend/server` is reported DOWN (its agent is gone). */
export function waitServerDown(sock: string, name: string, ms = 10_000) {
  return waitFor(`server ${name} DOWN`, ms, async () => {
    const s = (await showServers(sock)).find((x) => `${x.backend}/${x.server}` === name);
    return s !== undefined && s.status.startsWith("DOWN");
  }, 100);
}
