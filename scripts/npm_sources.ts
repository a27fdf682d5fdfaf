/**
 * Copies tests, examples or tools, with every repository file they import
 * (transitively), into a directory where they can be compiled against the
 * installed npm package, their imports of the library's entry points pointed
 * at the package (scripts/rewrite_imports.ts). An import of a library module
 * that is not an entry point cannot run that way: those are listed and the
 * exit code is 1.
 *
 * Usage: deno run --allow-read --allow-write scripts/npm_sources.ts OUT_DIR FILE...
 *   (FILE relative to the repository root; prints the files written)
 *
 * @module
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { parseDenoManifest } from "./manifests.ts";
import { type InternalImport, rewriteImports } from "./rewrite_imports.ts";

/** The files reached from some files through local imports, rewritten for the package. */
export interface PackageSources {
  /** The package's name (deno.json). */
  name: string;
  /** Each file (repository path) and its text with entry-point imports pointed at the package. */
  files: Map<string, string>;
  /** Imports of library modules that are not entry points: these cannot run against the package. */
  internal: InternalImport[];
}

/**
 * Follows the local imports of `files` (repository paths) transitively and rewrites each file's
 * imports of the library's entry points to the package.
 *
 * @param root The repository root.
 * @param files Where to start.
 * @returns The files reached, or `undefined` (with a message) if one does not exist.
 */
export function packageSources(root: string, files: readonly string[]): PackageSources | undefined {
  const manifest = parseDenoManifest(readFileSync(join(root, "deno.json"), "utf8"));
  const queue = files.map((file) => posix.normalize(file));
  const reached = new Map<string, string>();
  const internal: InternalImport[] = [];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (reached.has(file)) continue;
    if (!existsSync(join(root, file))) {
      console.error(`npm_sources: ${file} does not exist`);
      return undefined;
    }
    const result = rewriteImports(manifest, file, readFileSync(join(root, file), "utf8"));
    internal.push(...result.internal);
    queue.push(...result.local);
    reached.set(file, result.text);
  }
  return { name: manifest.name, files: reached, internal };
}

function main(args: string[]): number {
  const [outDir, ...files] = args;
  if (outDir === undefined || files.length === 0) {
    console.error("usage: scripts/npm_sources.ts OUT_DIR FILE...");
    return 2;
  }
  const root = fileURLToPath(new URL("../", import.meta.url));
  const sources = packageSources(root, files);
  if (sources === undefined) return 1;
  for (const [file, text] of sources.files) {
    mkdirSync(dirname(join(outDir, file)), { recursive: true });
    writeFileSync(join(outDir, file), text);
    console.log(file);
  }
  if (sources.internal.length > 0) {
    console.error(
      `npm_sources: these imports reach library modules that are not entry points of ${sources.name}` +
        ` (deno.json "exports"), so they cannot run against the npm package:`,
    );
    for (const { file, specifier } of sources.internal) console.error(`  ${file}: "${specifier}"`);
    return 1;
  }
  return 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
