// Mutation testing of the codec, the frame reader and the engine (StrykerJS, tap runner): run by
// hand with `deno task mutate` (scripts/mutate.sh), too slow for every CI run. Each test file is
// one "test" to Stryker: it runs on Node 24 with the TAP reporter in a child process, and a mutant
// runs only the files whose run reached it.
//
// SPOA_MUTATE picks the part: "codec" (src/codec and src/reader against tests/codec and
// tests/reader) or "engine" (src/engine against tests/engine). Each part keeps its own
// incremental file, so a second run re-tests only the mutants whose code or tests changed.
// Everything Stryker writes goes to .cache/stryker/: reports (<part>.html, <part>.json), the
// incremental files and the sandboxes.
const part = process.env.SPOA_MUTATE ?? "codec";
const parts = {
  codec: {
    mutate: ["src/codec/**/*.ts", "src/reader/**/*.ts", "!src/codec/mod.ts"],
    testFiles: ["tests/codec/*_test.ts", "tests/reader/*_test.ts"],
  },
  engine: {
    mutate: ["src/engine/**/*.ts"],
    testFiles: ["tests/engine/*_test.ts"],
  },
};
const chosen = parts[part];
if (chosen === undefined) {
  throw new Error(`SPOA_MUTATE must be one of ${Object.keys(parts).join(", ")}, not "${part}"`);
}

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "tap",
  plugins: ["@stryker-mutator/tap-runner"],
  tap: {
    testFiles: chosen.testFiles,
    nodeArgs: ["--test-reporter=tap", "-r", "{{hookFile}}", "{{testFile}}"],
    forceBail: true,
  },
  coverageAnalysis: "perTest",
  mutate: chosen.mutate,
  ignorePatterns: [".cache", "dist", "bench", "examples", "tests/e2e", "coverage"],
  reporters: ["progress", "clear-text", "html", "json"],
  htmlReporter: { fileName: `.cache/stryker/${part}.html` },
  jsonReporter: { fileName: `.cache/stryker/${part}.json` },
  incremental: true,
  incrementalFile: `.cache/stryker/incremental-${part}.json`,
  tempDirName: `.cache/stryker/tmp-${part}`,
  concurrency: Number(process.env.SPOA_MUTATE_CONCURRENCY ?? 2),
  timeoutMS: 5000,
  thresholds: { high: 90, low: 85, break: null },
  cleanTempDir: true,
};
