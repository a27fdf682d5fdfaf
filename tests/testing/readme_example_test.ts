// The handler test shown in README.md ("Testing your handlers") has one source: the README. This
// file reads that code block, points its `@spoa/agent` imports at this checkout (through the
// import map of deno.json, the one source of the entry points), and imports it, so that its
// `test()` runs here, on Deno, Bun and Node alike, exactly as a reader would copy it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { codeBlocks, importSource, pointImports } from "../_code_blocks.ts";

/** The first line of the README block this file runs. */
const MARKER = "// tests/testing/readme_example_test.ts runs this very block.";

const blocks = codeBlocks("README.md").filter((block) => block.lines[0] === MARKER);
if (blocks.length !== 1) {
  throw new Error(`README.md has ${blocks.length} code blocks starting with "${MARKER}"`);
}
const source = blocks[0].lines.join("\n");
const runnable = pointImports(source, "README.md");

test("the README's handler test is read from README.md, with its imports pointed at this checkout", () => {
  assert.match(source, /^import \{ Agent, Value \} from "@spoa\/agent";$/m);
  assert.match(source, /^import \{ HaproxySimulator \} from "@spoa\/agent\/testing";$/m);
  assert.match(source, /^test\("the score comes back as a session variable", /m);
  assert.doesNotMatch(runnable, /from "@spoa\//);
  assert.equal(
    runnable.split("\n").length,
    source.split("\n").length,
    "only the specifiers change",
  );
});

// The block's own test() registers here, as if this file were the block.
await importSource(runnable);
