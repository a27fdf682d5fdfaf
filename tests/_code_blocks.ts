// Code blocks of the documentation (README.md and the TSDoc `@example`s), made runnable: their
// imports pointed at this checkout, so that a test can import them as modules on Deno, Bun and
// Node alike. Used by tests/testing/readme_example_test.ts and tests/doc_output_test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The repository root. */
export const ROOT = new URL("../", import.meta.url);

/** One fenced code block. */
export interface CodeBlock {
  /** The file it is in, relative to the repository root. */
  file: string;
  /** The 1-based line of its opening fence. */
  line: number;
  /** The fence's info string: `ts`, `ts ignore`, ... */
  info: string;
  /** Its lines, without the TSDoc ` * ` prefix. */
  lines: string[];
}

/**
 * The fenced blocks of a Markdown file, or of the TSDoc comments of a TypeScript file.
 *
 * @param file A path relative to the repository root.
 * @returns The blocks in order.
 */
export function codeBlocks(file: string): CodeBlock[] {
  const text = readFileSync(new URL(file, ROOT), "utf8");
  const inDoc = !file.endsWith(".md");
  const blocks: CodeBlock[] = [];
  let open: CodeBlock | undefined;
  text.split("\n").forEach((raw, index) => {
    let line = raw;
    if (inDoc) {
      const doc = /^\s*\*(?: |$)(.*)$/.exec(raw);
      if (doc === null) {
        open = undefined;
        return;
      }
      line = doc[1];
    }
    const fence = /^```(.*)$/.exec(line);
    if (fence !== null) {
      if (open === undefined) {
        open = { file, line: index + 1, info: fence[1].trim(), lines: [] };
      } else {
        blocks.push(open);
        open = undefined;
      }
      return;
    }
    open?.lines.push(line);
  });
  return blocks;
}

/** Whether `deno test --doc` runs the block (TypeScript or JavaScript, not marked `ignore`). */
export function isRunnable(block: CodeBlock): boolean {
  const [lang, ...flags] = block.info.split(/\s+/);
  return ["ts", "typescript", "js", "javascript"].includes(lang) && !flags.includes("ignore");
}

/** The import map of deno.json: `@spoa/agent…` → the file each entry point is. */
export function importMap(): Record<string, string> {
  const denoJson = JSON.parse(readFileSync(new URL("deno.json", ROOT), "utf8")) as {
    imports: Record<string, string>;
  };
  return denoJson.imports;
}

/**
 * `source` with its `@spoa/agent…` and relative import specifiers turned into file URLs: the
 * former through deno.json's import map, the latter relative to the file the block is in.
 *
 * @throws {Error} For an `@spoa/agent…` specifier that deno.json does not map.
 */
export function pointImports(source: string, file: string): string {
  const imports = importMap();
  return source.replace(
    /(from |import\()"([^"]+)"/g,
    (match, keyword: string, specifier: string) => {
      if (specifier.startsWith("@spoa/")) {
        const target = imports[specifier];
        if (target === undefined) throw new Error(`deno.json does not map "${specifier}"`);
        return `${keyword}"${new URL(target, ROOT).href}"`;
      }
      if (specifier.startsWith("./") || specifier.startsWith("../")) {
        return `${keyword}"${new URL(specifier, new URL(file, ROOT)).href}"`;
      }
      return match;
    },
  );
}

/**
 * Imports `source` as a module (written to a temp file for the time of the import).
 *
 * @returns The module's namespace.
 */
export async function importSource(source: string): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), "spoa-doc-"));
  try {
    const path = join(dir, "block.ts");
    writeFileSync(path, source);
    return await import(pathToFileURL(path).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
