// deno publish reads deno.json and ignores jsr.json when both exist (STYLE.md, "Known traps"), so
// the two must agree on what gets published.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

interface Manifest {
  name?: string;
  version?: string;
  exports?: string | Record<string, string>;
}

async function readManifest(file: string): Promise<Manifest> {
  return JSON.parse(await readFile(new URL(`../${file}`, import.meta.url), "utf8")) as Manifest;
}

test("deno.json and jsr.json have identical name, version and exports", async () => {
  const deno = await readManifest("deno.json");
  const jsr = await readManifest("jsr.json");
  assert.equal(typeof deno.name, "string");
  assert.match(deno.name!, /^@[a-z0-9-]+\/[a-z0-9-]+$/);
  assert.match(deno.version ?? "", /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/);
  assert.equal(jsr.name, deno.name);
  assert.equal(jsr.version, deno.version);
  assert.deepEqual(jsr.exports, deno.exports);
});

test("every export of deno.json points to a file that exists", async () => {
  const { exports } = await readManifest("deno.json");
  const targets = typeof exports === "string" ? [exports] : Object.values(exports ?? {});
  assert.ok(targets.length > 0);
  for (const target of targets) {
    assert.match(target, /^\.\/.+\.ts$/);
    await assert.doesNotReject(readFile(new URL(`../${target}`, import.meta.url)), target);
  }
});
