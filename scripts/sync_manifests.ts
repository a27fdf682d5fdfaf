/**
 * Brings jsr.json and deno.json's self-import entries in line with deno.json
 * (name, version, license, exports, publish): `deno task sync:manifests`.
 * With `--check`, changes nothing and exits 1 if either is out of date.
 *
 * Usage: deno run --allow-read --allow-write scripts/sync_manifests.ts [--check]
 *
 * @module
 */

import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { jsonText, jsrManifest, parseDenoManifest, selfImports } from "./manifests.ts";

const check = process.argv.includes("--check");
const root = new URL("../", import.meta.url);
const denoFile = new URL("deno.json", root);
const jsrFile = new URL("jsr.json", root);

const denoText = readFileSync(denoFile, "utf8");
const deno = parseDenoManifest(denoText);
// What each file should hold, and what to call it when it does not.
const wanted: Array<{ file: URL; text: string; what: string }> = [
  { file: jsrFile, text: jsonText(jsrManifest(deno)), what: "jsr.json" },
  {
    file: denoFile,
    text: jsonText({ ...JSON.parse(denoText), imports: selfImports(deno) }),
    what: `deno.json's "imports" entries for ${deno.name}`,
  },
];

/** The JSON data of a file's text, or undefined when missing or malformed. */
function dataOf(file: URL): string | undefined {
  try {
    return JSON.stringify(JSON.parse(readFileSync(file, "utf8")));
  } catch {
    return undefined;
  }
}

let stale = 0;
for (const { file, text, what } of wanted) {
  // Compare data, not layout: deno fmt owns the layout.
  if (dataOf(file) === JSON.stringify(JSON.parse(text))) continue;
  stale++;
  if (check) {
    console.error(`${what}: out of date with deno.json; run \`deno task sync:manifests\``);
  } else {
    writeFileSync(file, text);
    console.log(`updated ${what}`);
  }
}
if (stale === 0) console.log(`jsr.json and deno.json's self-imports match deno.json`);
process.exitCode = check && stale > 0 ? 1 : 0;
