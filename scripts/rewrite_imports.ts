/**
 * Rewrites the imports of tests, examples and tools so that they load the
 * library from its npm package: each import of a library entry point (a file
 * deno.json exports, e.g. `../../src/codec/mod.ts`) becomes the package
 * specifier (`@spoa/agent/codec`). Imports of other library modules (covered
 * by deno.json's `publish.include` but not exported) cannot be served by the
 * package and are reported.
 *
 * @module
 */

import { posix } from "node:path";
import { type DenoManifest, exportMap, specifierOf } from "./manifests.ts";

/** An import of a library module that is not an entry point. */
export interface InternalImport {
  /** The importing file, repository-relative. */
  file: string;
  /** The specifier as written. */
  specifier: string;
  /** The imported module, repository-relative. */
  target: string;
}

/** The result of {@linkcode rewriteImports}. */
export interface RewriteResult {
  /** The text with entry-point imports replaced by package specifiers. */
  text: string;
  /** Repository files imported relatively that are not library modules (to copy too). */
  local: string[];
  /** Imports of library modules that are not entry points. */
  internal: InternalImport[];
}

/** Static imports and re-exports (`from "…"`, `import "…"`) and dynamic `import("…")`. */
const IMPORT_SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']+)\2/g;

/**
 * A matcher for deno.json's `publish.include` globs (`*`, `**`), the files
 * that make up the library.
 *
 * @param patterns The globs, repository-relative.
 * @returns A test for repository-relative paths.
 */
export function globMatcher(patterns: readonly string[]): (path: string) => boolean {
  const expressions = patterns.map((pattern) => {
    const source = pattern.replace(/^\.\//, "").split(/(\*\*\/|\*)/).map((part) =>
      part === "**/"
        ? "(?:.*/)?"
        : part === "*"
        ? "[^/]*"
        : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")
    ).join("");
    return new RegExp(`^${source}$`);
  });
  return (path) => expressions.some((expression) => expression.test(path));
}

/**
 * Points one file's imports of library entry points at the package.
 *
 * @param manifest deno.json.
 * @param file The file, repository-relative (POSIX separators).
 * @param text Its content.
 * @returns The new text, the local files it imports, and the internal imports found.
 */
export function rewriteImports(manifest: DenoManifest, file: string, text: string): RewriteResult {
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(exportMap(manifest))) {
    entries.set(posix.normalize(target), specifierOf(manifest.name, subpath));
  }
  const isLibrary = globMatcher(
    (manifest.publish?.include ?? []).filter((pattern) => pattern.endsWith(".ts")),
  );
  const local: string[] = [];
  const internal: InternalImport[] = [];
  const rewritten = text.replace(IMPORT_SPECIFIER, (whole, lead, quote, specifier: string) => {
    const target = posix.normalize(posix.join(posix.dirname(file), specifier));
    const entry = entries.get(target);
    if (entry !== undefined) return `${lead}${quote}${entry}${quote}`;
    if (isLibrary(target)) internal.push({ file, specifier, target });
    else local.push(target);
    return whole;
  });
  return { text: rewritten, local, internal };
}
