// A full garbage collection on Deno, Bun and Node alike, for the tests and the target agent of
// scripts/fuzz.ts and scripts/soak.ts (which measure what is still live, not what is not yet
// collected).
import v8 from "node:v8";
import vm from "node:vm";

/** Runs a full garbage collection. */
export const collectGarbage: () => void = (() => {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun !== undefined) return () => bun.gc(true);
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
})();
