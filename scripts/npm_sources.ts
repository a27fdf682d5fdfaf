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

function main(args: string[]): number {
  const [outDir, ...files] = args;
  if (outDir === undefined || files.length === 0) {
    console.error("usage: scripts/npm_sources.ts OUT_DIR FILE...");
    return 2;
  }
  const root = fileURLToPath(new URL("../", import.meta.url));
  const manifest = parseDenoManifest(readFileSync(join(root, "deno.json"), "utf8"));
  const queue = files.map((file) => posix.normalize(file));
  const seen = new Set<string>();
  const internal: InternalImport[] = [];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!existsSync(join(root, file))) {
      console.error(`npm_sources: ${file} does not exist`);
      return 1;
    }
    const result = rewriteImports(manifest, file, readFileSync(join(root, file), "utf8"));
    internal.push(...result.internal);
    queue.push(...result.local);
    mkdirSync(dirname(join(outDir, file)), { recursive: true });
    writeFileSync(join(outDir, file), result.text);
    console.log(file);
  }
  if (internal.length > 0) {
    console.error(
      `npm_sources: these imports reach library modules that are not entry points of ${manifest.name}` +
        ` (deno.json "exports"), so they cannot run against the npm package:`,
    );
    for (const { file, specifier } of internal) console.error(`  ${file}: "${specifier}"`);
    return 1;
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
