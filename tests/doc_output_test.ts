// What the documentation says an example prints is what it prints. In the runnable examples of
// README.md and of the TSDoc (the blocks `deno test --doc` runs), a line
//
//     console.log(ARGS); // TEXT
//
// claims that it prints TEXT, as Deno's console.log shows it. Each such example is run here, on
// Deno, Bun and Node alike, with console.log captured, and every claim is compared, exactly. A
// `console.log` line with a comment not in that form fails, so no claim is skipped unnoticed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import {
  type CodeBlock,
  codeBlocks,
  importSource,
  isRunnable,
  pointImports,
} from "./_code_blocks.ts";

/** Where the capturing console.log of the running example reports. */
const SINK = Symbol.for("spoa.doc-output");
type Sink = (claim: number, values: unknown[]) => void;

const CLAIM = /^(\s*)console\.log\((.*)\);\s*\/\/ (.*)$/;

/** The source files whose TSDoc `deno test --doc` runs (README.md, mod.ts, src/). */
function documentedFiles(): string[] {
  const files = ["README.md", "mod.ts"];
  const walk = (dir: string) => {
    for (
      const entry of readdirSync(new URL(dir, new URL("../", import.meta.url)), {
        withFileTypes: true,
      })
    ) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  walk("src");
  return files.sort();
}

/** An example made runnable with its claims numbered: what each claims, and the code. */
interface Checked {
  block: CodeBlock;
  expected: string[];
  source: string;
}

function prepare(block: CodeBlock): Checked | undefined {
  const expected: string[] = [];
  const lines = block.lines.map((line, index) => {
    if (!line.includes("console.log(")) return line;
    const claim = CLAIM.exec(line);
    if (claim === null) {
      // A console.log without a trailing comment claims nothing; one with a comment must be a claim.
      if (/\/\/ /.test(line.slice(line.indexOf("console.log(")))) {
        throw new Error(
          `${block.file}:${block.line + 1 + index}: a console.log line with a comment must be ` +
            `"console.log(ARGS); // OUTPUT" alone on its line`,
        );
      }
      return line;
    }
    expected.push(claim[3]);
    return `${claim[1]}__print(${expected.length - 1}, ${claim[2]});`;
  });
  if (expected.length === 0) return undefined;
  const prelude = [
    `const __sink = (globalThis as Record<symbol, unknown>)[Symbol.for("spoa.doc-output")] as ` +
    `(claim: number, values: unknown[]) => void;`,
    `const __print = (claim: number, ...values: unknown[]) => __sink(claim, values);`,
    `const console = { ...globalThis.console, log: (...values: unknown[]) => __sink(-1, values) };`,
  ];
  return {
    block,
    expected,
    source: pointImports([...prelude, ...lines].join("\n"), block.file),
  };
}

/** A value as Deno's console.log shows it, for the values examples print; anything else throws. */
export function show(values: readonly unknown[]): string {
  return values.map((value) => typeof value === "string" ? value : inspect(value)).join(" ");
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function inspect(value: unknown): string {
  switch (typeof value) {
    case "string":
      if (value.includes('"') || value.includes("\\") || value.includes("\n")) {
        throw new Error(`cannot show the string ${JSON.stringify(value)} inside a value`);
      }
      return `"${value}"`;
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "boolean":
    case "undefined":
      return String(value);
  }
  if (value === null) return "null";
  const short = (text: string) => {
    // Longer values are broken over several lines by Deno (and Node): print something simpler.
    if (text.length > 72) throw new Error(`${text} is too long to show on one line`);
    return text;
  };
  const items = (list: readonly unknown[]) => {
    if (list.length > 6) throw new Error(`cannot show ${list.length} items on one line`);
    return list.length === 0 ? "[]" : `[ ${list.map(inspect).join(", ")} ]`;
  };
  if (value instanceof Uint8Array) {
    return short(`Uint8Array(${value.length}) ${items([...value])}`);
  }
  if (Array.isArray(value)) return short(items(value));
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) {
    const entries = Object.entries(value as Record<string, unknown>).map(([key, item]) =>
      `${IDENTIFIER.test(key) ? key : `"${key}"`}: ${inspect(item)}`
    );
    return short(entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`);
  }
  throw new Error(`cannot show a ${prototype?.constructor?.name ?? "value"}: print a plain value`);
}

/** Deno's own rendering, where the tests run on Deno: show() must agree with it. */
const denoInspect = (globalThis as { Deno?: { inspect(value: unknown): string } }).Deno?.inspect;

const examples = documentedFiles().flatMap((file) =>
  codeBlocks(file).filter(isRunnable).flatMap((block) => prepare(block) ?? [])
);

test("the documentation has examples whose printed output is checked", () => {
  assert.ok(examples.length >= 20, `${examples.length} examples with a // output claim`);
});

for (const { block, expected, source } of examples) {
  test(`${block.file}:${block.line}: the example prints what its comments say`, async () => {
    const printed: unknown[][][] = expected.map(() => []);
    const sink: Sink = (claim, values) => {
      if (claim >= 0) printed[claim].push(values);
    };
    (globalThis as Record<symbol, unknown>)[SINK] = sink;
    try {
      await importSource(source);
    } finally {
      delete (globalThis as Record<symbol, unknown>)[SINK];
    }
    expected.forEach((text, claim) => {
      const where = `claim ${claim + 1} (// ${text})`;
      assert.ok(printed[claim].length > 0, `${where} was never printed`);
      for (const values of printed[claim]) {
        const shown = show(values);
        if (denoInspect !== undefined) {
          const deno = values.map((v) => typeof v === "string" ? v : denoInspect(v)).join(" ");
          assert.equal(shown, deno, `${where}: show() differs from Deno's console.log`);
        }
        assert.equal(shown, text, where);
      }
    });
  });
}
