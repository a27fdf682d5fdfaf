// deno.json is the source of the package's name, version, license and exports (deno publish reads
// it and ignores jsr.json when both exist: STYLE.md, "Known traps"); jsr.json, the self-import
// entries of deno.json and the npm package.json are derived from it by scripts/manifests.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import {
  exportMap,
  jsrManifest,
  moduleSummary,
  npmManifest,
  parseDenoManifest,
  selfImports,
  specifierOf,
} from "../scripts/manifests.ts";

async function readText(file: string): Promise<string> {
  return await readFile(new URL(`../${file}`, import.meta.url), "utf8");
}

const deno = parseDenoManifest(await readText("deno.json"));

test("jsr.json is what deno.json derives (deno task sync:manifests)", async () => {
  const jsr = JSON.parse(await readText("jsr.json"));
  assert.deepEqual(jsr, jsrManifest(deno));
  assert.equal(jsr.name, deno.name);
  assert.equal(jsr.version, deno.version);
  assert.deepEqual(jsr.exports, deno.exports);
});

test("deno.json imports the package by name exactly as it exports it", () => {
  assert.deepEqual(deno.imports, selfImports(deno));
});

test("every export of deno.json points to a file that exists", async () => {
  const targets = Object.values(exportMap(deno));
  assert.ok(targets.length > 0);
  for (const target of targets) {
    await assert.doesNotReject(readText(target), target);
  }
});

test("the npm package.json maps every export to its .js and .d.ts, and nothing else", () => {
  const npm = npmManifest(deno, "a description");
  assert.equal(npm.name, deno.name);
  assert.equal(npm.version, deno.version);
  assert.equal(npm.license, deno.license);
  assert.equal(npm.type, "module");
  assert.deepEqual(Object.keys(npm.exports), Object.keys(exportMap(deno)));
  for (const [subpath, target] of Object.entries(exportMap(deno))) {
    const stem = target.slice(0, -".ts".length);
    assert.deepEqual(npm.exports[subpath], { types: `${stem}.d.ts`, default: `${stem}.js` });
  }
  assert.equal("dependencies" in npm, false);
});

test("parseDenoManifest() rejects a manifest that cannot be published", () => {
  const valid = { name: "@a/b", version: "1.0.0", license: "MIT", exports: "./mod.ts" };
  assert.doesNotThrow(() => parseDenoManifest(JSON.stringify(valid)));
  for (
    const [change, message] of [
      [{ name: "b" }, /"name"/],
      [{ version: "1.0" }, /"version"/],
      [{ license: undefined }, /"license"/],
      [{ exports: undefined }, /"exports" is missing/],
      [{ exports: { ".": "./mod.js" } }, /must point to a \.\/…ts file/],
      [{ exports: { "codec": "./codec.ts" } }, /must be "\." or start with "\.\/"/],
    ] as const
  ) {
    assert.throws(() => parseDenoManifest(JSON.stringify({ ...valid, ...change })), message);
  }
});

test("specifierOf() and selfImports() name entry points after the package", () => {
  assert.equal(specifierOf("@a/b", "."), "@a/b");
  assert.equal(specifierOf("@a/b", "./codec"), "@a/b/codec");
  const imports = selfImports({
    name: "@a/b",
    version: "1.0.0",
    license: "MIT",
    exports: { ".": "./mod.ts", "./x": "./src/x.ts" },
    imports: { "@a/b/gone": "./src/gone.ts", "@a/bc": "./elsewhere.ts", "@std/x": "jsr:@std/x" },
  });
  assert.deepEqual(imports, {
    "@a/bc": "./elsewhere.ts",
    "@std/x": "jsr:@std/x",
    "@a/b": "./mod.ts",
    "@a/b/x": "./src/x.ts",
  });
});

test("moduleSummary() takes the first paragraph of the module documentation", async () => {
  assert.equal(
    moduleSummary("/**\n * First line,\n * second line.\n *\n * More.\n * @module\n */\n"),
    "First line, second line.",
  );
  assert.equal(moduleSummary("// no doc comment\nexport {};\n"), "");
  assert.match(moduleSummary(await readText("mod.ts")), /^@spoa\/agent: .+\.$/);
});
