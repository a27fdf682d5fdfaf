// Which runtime runs the tests, told the way the library's adapter picker tells it.

/** The runtime running this code: "deno", "bun" or "node". */
export function runtimeName(): "deno" | "bun" | "node" {
  const global = globalThis as { Deno?: unknown; Bun?: unknown };
  if (global.Deno !== undefined) return "deno";
  if (global.Bun !== undefined) return "bun";
  return "node";
}
