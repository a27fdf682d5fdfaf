/**
 * `GET /metrics` for the examples' `--metrics HOST:PORT`, served by the
 * runtime's own HTTP server: `Deno.serve`, `Bun.serve` or `node:http`.
 *
 * @module
 */

import { PROMETHEUS_CONTENT_TYPE } from "../src/metrics/mod.ts";

/** A running metrics server. */
export interface MetricsServer {
  /** The port it listens on. */
  readonly port: number;
  /** Stops it. */
  close(): Promise<void>;
}

interface Runtimes {
  Deno?: {
    serve(
      options: { hostname: string; port: number; onListen?: () => void },
      handler: (request: Request) => Response,
    ): { addr: { port: number }; shutdown(): Promise<void> };
  };
  Bun?: {
    serve(options: {
      hostname: string;
      port: number;
      fetch(request: Request): Response;
    }): { port: number; stop(force?: boolean): void };
  };
}

function answer(url: string, render: () => string): Response {
  if (new URL(url).pathname !== "/metrics") return new Response("not found\n", { status: 404 });
  return new Response(render(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
}

/**
 * Serves `render()` at `GET /metrics`.
 *
 * @param hostname Where to listen.
 * @param port The port; 0 picks one.
 * @param render The text exposition of the metrics.
 * @returns The server.
 */
export async function serveMetrics(
  hostname: string,
  port: number,
  render: () => string,
): Promise<MetricsServer> {
  const runtime = globalThis as Runtimes;
  if (runtime.Deno) {
    const server = runtime.Deno.serve(
      { hostname, port, onListen: () => {} },
      (request) => answer(request.url, render),
    );
    return { port: server.addr.port, close: () => server.shutdown() };
  }
  if (runtime.Bun) {
    const server = runtime.Bun.serve({
      hostname,
      port,
      fetch: (request) => answer(request.url, render),
    });
    return { port: server.port, close: () => Promise.resolve(server.stop(true)) };
  }
  const { createServer } = await import("node:http");
  const server = createServer((request, response) => {
    if (new URL(request.url ?? "/", "http://localhost").pathname !== "/metrics") {
      response.writeHead(404).end("not found\n");
      return;
    }
    response.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE }).end(render());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: hostname, port }, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
