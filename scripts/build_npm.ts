/**
 * Builds the npm package into dist/npm: ESM JavaScript and `.d.ts`
 * declarations of every entry point deno.json exports and of the modules they
 * import (tests and tools are not reachable from them, so they stay out), a
 * package.json derived from deno.json (scripts/manifests.ts), README.md and
 * LICENSE. Node 20 and 22 cannot load `.ts` from node_modules; this build is
 * what they run. `npm pack dist/npm` makes the tarball.
 *
 * Usage: deno task build:npm   (TypeScript's tsc from node_modules: npm install first)
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import {
  compiledPath,
  exportMap,
  jsonText,
  moduleSummary,
  npmManifest,
  parseDenoManifest,
} from "./manifests.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const out = join(root, "dist", "npm");

/** The compiler options: Node 20's ES2023, ESM as Node resolves it, `.ts` imports → `.js`. */
const TSC_OPTIONS: readonly string[] = [
  "--target",
  "es2023",
  "--lib",
  "es2023",
  "--types",
  "node",
  "--module",
  "nodenext",
  "--moduleResolution",
  "nodenext",
  "--rewriteRelativeImportExtensions",
  "--verbatimModuleSyntax",
  "--erasableSyntaxOnly",
  "--strict",
  "--skipLibCheck",
  "--declaration",
  "--noEmitOnError",
  "--newLine",
  "lf",
];

function fail(message: string): never {
  console.error(`build_npm: ${message}`);
  process.exit(1);
}

/**
 * The Deno namespace's declarations (`deno types`), which the Deno adapter compiles against, without
 * their `/// <reference>` lines: those would swap the compiler's ES2023 library for ESNext.
 */
function denoTypes(deno: string): string {
  const result = spawnSync(deno, ["types"], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) fail(`deno types failed: ${result.stderr}`);
  return result.stdout.replace(/^\/\/\/ <reference [^>]*>$/gm, "");
}

/** Relative `.ts` specifiers in a declaration file, which tsc leaves as written. */
const DECLARATION_TS_IMPORT = /((?:from|import)\s*\(?\s*["']\.{1,2}\/[^"']*)\.ts(["'])/g;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]
  );
}

const deno = parseDenoManifest(readFileSync(join(root, "deno.json"), "utf8"));
const entries = Object.values(exportMap(deno));
const tools = join(root, "node_modules", ".bin");
for (const tool of ["tsc", "deno"]) {
  if (!existsSync(join(tools, tool))) fail(`node_modules/.bin/${tool} is missing: run npm install`);
}

rmSync(out, { recursive: true, force: true });
const declarations = denoTypes(join(tools, "deno"));
const scratch = mkdtempSync(join(tmpdir(), "spoa-build-npm-"));
let compiled: ReturnType<typeof spawnSync>;
try {
  const denoDeclarations = join(scratch, "lib.deno.d.ts");
  writeFileSync(denoDeclarations, declarations);
  // The entry points only: tsc follows their imports, static and dynamic, so the package holds
  // exactly the modules an entry point can load.
  compiled = spawnSync(join(tools, "tsc"), [
    ...TSC_OPTIONS,
    "--rootDir",
    root,
    "--outDir",
    out,
    ...entries.map((entry) => join(root, entry)),
    denoDeclarations,
  ], { cwd: root, stdio: "inherit" });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (compiled.error) fail(`could not run tsc: ${compiled.error.message}`);
if (compiled.status !== 0) fail(`tsc failed (exit code ${compiled.status})`);
for (const file of filesUnder(out).filter((f) => f.endsWith(".d.ts"))) {
  const text = readFileSync(file, "utf8");
  const rewritten = text.replace(DECLARATION_TS_IMPORT, "$1.js$2");
  if (rewritten !== text) writeFileSync(file, rewritten);
}

const rootEntry = exportMap(deno)["."] ?? entries[0];
// "@spoa/agent: write HAProxy SPOA agents…" → "Write HAProxy SPOA agents…"
const description = moduleSummary(readFileSync(join(root, rootEntry), "utf8"))
  .replace(`${deno.name}: `, "")
  .replace(/^./, (first) => first.toUpperCase());
const manifest = npmManifest(deno, description);
writeFileSync(join(out, "package.json"), jsonText(manifest));
for (const file of ["README.md", "LICENSE"]) copyFileSync(join(root, file), join(out, file));

// The package must be complete and must not point back at TypeScript sources.
for (const [subpath, target] of Object.entries(manifest.exports)) {
  for (const file of [target.default, target.types]) {
    if (!existsSync(join(out, file))) fail(`export "${subpath}": ${file} was not emitted`);
  }
}
const files = filesUnder(out);
for (const file of files.filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"))) {
  // Doc comments keep their examples' imports as written; only code counts.
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  const tsImport = /(?:from\s*|import\s*\(\s*)["'](\.{1,2}\/[^"']*\.ts)["']/.exec(text);
  if (tsImport) fail(`${relative(out, file)} still imports ${tsImport[1]}`);
}
const sources = files.filter((f) => f.endsWith(".js")).length;
console.log(
  `dist/npm: ${manifest.name}@${manifest.version}, ${sources} modules, ` +
    `${Object.keys(manifest.exports).length} exports (${
      entries.map((e) => compiledPath(e, ".js")).join(", ")
    })`,
);
