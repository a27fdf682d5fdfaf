/**
 * What the three adapters share about sockets: the close grace period, peer
 * address text, chunk views, and replacing a stale Unix socket file.
 *
 * @module
 */

import { rmSync } from "node:fs";
import type { TlsOptions } from "./types.ts";

/**
 * How long a closing socket reads and discards, waiting for the peer to close
 * its side, before it is closed anyway. It also bounds a peer that stopped
 * reading while the agent's last bytes wait to go out.
 */
export const CLOSE_GRACE_MS = 2000;

/**
 * Formats a peer address for logs: `host:port`, `[v6]:port`, or `unix`.
 *
 * @param hostname The peer's host, if TCP.
 * @param port The peer's port, if TCP.
 * @returns The text.
 */
export function formatPeer(hostname: string | undefined, port: number | undefined): string {
  if (hostname === undefined || hostname === "") return "unix";
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * Views a runtime's chunk (a Node or Bun byte buffer) as a plain
 * `Uint8Array` over the same memory, so the engine sees only `Uint8Array`.
 *
 * @param chunk The chunk.
 * @returns The view.
 */
export function viewOf(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Removes a file left at a Unix socket path (a previous run's socket), so
 * that listening there succeeds.
 *
 * @param path The socket path.
 */
export function removeStaleSocket(path: string): void {
  rmSync(path, { force: true });
}

/**
 * Arms a timer that does not keep the process alive.
 *
 * @param callback What to run.
 * @param ms When.
 * @returns The timer.
 */
export function unrefTimer(callback: () => void, ms: number): ReturnType<typeof setTimeout> {
  const timer = setTimeout(callback, ms);
  const deno = (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno;
  if (deno !== undefined && typeof timer === "number") deno.unrefTimer(timer);
  else (timer as { unref?(): void }).unref?.();
  return timer;
}

/** TLS options as `node:tls` and `Bun.listen` take them. */
export interface RuntimeTlsOptions {
  cert: string;
  key: string;
  passphrase?: string;
  ca?: string | string[];
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/**
 * Fills in the defaults of {@linkcode TlsOptions}: asking for client
 * certificates when a CA is given, and refusing clients that fail to verify.
 *
 * @param tls The options given.
 * @returns The options for the runtime.
 */
export function runtimeTls(tls: TlsOptions): RuntimeTlsOptions {
  const ca = tls.ca === undefined ? undefined : typeof tls.ca === "string" ? tls.ca : [...tls.ca];
  return {
    cert: tls.cert,
    key: tls.key,
    ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }),
    ...(ca === undefined ? {} : { ca }),
    requestCert: tls.requestCert ?? ca !== undefined,
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
  };
}
