// The benchmark agent also runs from the npm package (scripts/npm_rss.sh, on Node 20, 22 and 24):
// it reaches the library through the package's entry points only, and it starts on runtimes
// without import.meta.main.
import { test } from "node:test";
import assert from "node:assert/strict";
import { realpathSync } from "node:fs";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainModule } from "../../bench/_serve.ts";
import { packageSources } from "../../scripts/npm_sources.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

test("bench/agent.ts and what it imports reach the library only through entry points", () => {
  const sources = packageSources(root, ["bench/agent.ts"]);
  assert.ok(sources !== undefined);
  assert.ok(sources.files.has("bench/_serve.ts") && sources.files.has("bench/_shape.ts"));
  assert.deepEqual(sources.internal, []);
});

test("isMainModule() without import.meta.main compares the module with the script run", () => {
  const script = process.argv[1];
  assert.ok(script !== undefined, "the test runner names the script it runs");
  const scriptUrl = pathToFileURL(realpathSync(script)).href;
  assert.equal(isMainModule({ url: scriptUrl } as ImportMeta), true);
  assert.equal(
    isMainModule({ url: pathToFileURL("/elsewhere/agent.js").href } as ImportMeta),
    false,
  );
  // Where the runtime says, it is believed.
  assert.equal(isMainModule({ url: scriptUrl, main: false } as ImportMeta), false);
});
