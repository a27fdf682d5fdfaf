import { test } from "node:test";
import assert from "node:assert/strict";
import type { DenoManifest } from "../../scripts/manifests.ts";
import { globMatcher, rewriteImports } from "../../scripts/rewrite_imports.ts";

const manifest: DenoManifest = {
  name: "@a/b",
  version: "1.0.0",
  license: "MIT",
  exports: { ".": "./mod.ts", "./codec": "./src/codec/mod.ts", "./node": "./src/adapters/node.ts" },
  publish: { include: ["LICENSE", "mod.ts", "src/**/*.ts"] },
};

test("globMatcher() matches publish.include globs", () => {
  const matches = globMatcher(["mod.ts", "src/**/*.ts"]);
  assert.equal(matches("mod.ts"), true);
  assert.equal(matches("src/x.ts"), true);
  assert.equal(matches("src/a/b/x.ts"), true);
  assert.equal(matches("tests/mod.ts"), false);
  assert.equal(matches("src/x.js"), false);
  assert.equal(matches("modxts"), false);
});

test("rewriteImports() points entry-point imports at the package", () => {
  const text = [
    `import { Agent } from "../../mod.ts";`,
    `import type { Frame } from '../../src/codec/mod.ts';`,
    `export * from "../../src/codec/mod.ts";`,
    `const { listen } = await import("../../src/adapters/node.ts");`,
    `import { helper } from "./_helpers.ts";`,
    `import "../_setup.ts";`,
    `import { test } from "node:test";`,
    `import { other } from "@a/b";`,
  ].join("\n");
  const result = rewriteImports(manifest, "tests/adapters/x_test.ts", text);
  assert.equal(
    result.text,
    [
      `import { Agent } from "@a/b";`,
      `import type { Frame } from '@a/b/codec';`,
      `export * from "@a/b/codec";`,
      `const { listen } = await import("@a/b/node");`,
      `import { helper } from "./_helpers.ts";`,
      `import "../_setup.ts";`,
      `import { test } from "node:test";`,
      `import { other } from "@a/b";`,
    ].join("\n"),
  );
  assert.deepEqual(result.local, ["tests/adapters/_helpers.ts", "tests/_setup.ts"]);
  assert.deepEqual(result.internal, []);
});

test("rewriteImports() reports imports of library modules that are not entry points", () => {
  const text = `import { FrameReader } from "../src/reader/frame_reader.ts";\n` +
    `import { x } from "./src/engine/agent.ts";\n`;
  const result = rewriteImports(manifest, "bench/x.ts", text);
  assert.equal(result.text, text);
  assert.deepEqual(result.local, ["bench/src/engine/agent.ts"]);
  assert.deepEqual(result.internal, [{
    file: "bench/x.ts",
    specifier: "../src/reader/frame_reader.ts",
    target: "src/reader/frame_reader.ts",
  }]);
});
