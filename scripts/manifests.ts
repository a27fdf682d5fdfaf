/**
 * deno.json is the one source of the package's name, version, license and
 * exports (`deno publish` reads it and ignores jsr.json when both exist). This
 * module derives from it everything that must agree with it: jsr.json, the
 * import map entries through which the repository imports itself by name, and
 * the package.json of the npm build.
 *
 * @module
 */

/** The fields of deno.json the derived manifests use. */
export interface DenoManifest {
  /** The package name, `@scope/name`. */
  name: string;
  /** The package version (semver). */
  version: string;
  /** The SPDX license identifier. */
  license: string;
  /** One entry point, or entry points by subpath (`"."`, `"./codec"`, …). */
  exports: string | Record<string, string>;
  /** The import map; entries named after the package resolve it to itself. */
  imports?: Record<string, string>;
  /** What `deno publish` uploads. */
  publish?: { include?: string[]; exclude?: string[] };
}

/** The npm entry of one export: compiled JavaScript and its declarations. */
export interface NpmExport {
  /** The `.d.ts` file, `./`-relative. */
  types: string;
  /** The `.js` file, `./`-relative. */
  default: string;
}

/** The generated package.json of the npm build. */
export interface NpmManifest {
  /** Same as deno.json's. */
  name: string;
  /** Same as deno.json's. */
  version: string;
  /** The first paragraph of the root entry point's module documentation. */
  description: string;
  /** Same as deno.json's. */
  license: string;
  /** ESM only. */
  type: "module";
  /** One entry per export of deno.json, same subpaths. */
  exports: Record<string, NpmExport>;
  /** The oldest Node release the build is tested on. */
  engines: { node: string };
}

/** The oldest Node release the npm build supports (scripts/npm_check.sh runs it there). */
export const NPM_NODE_ENGINE = ">=20";

/**
 * Parses and validates deno.json's text.
 *
 * @param text The file's content.
 * @returns The manifest.
 * @throws {TypeError} If name, version, license or exports are missing or malformed.
 */
export function parseDenoManifest(text: string): DenoManifest {
  const manifest = JSON.parse(text) as Partial<DenoManifest>;
  if (typeof manifest.name !== "string" || !/^@[a-z0-9-]+\/[a-z0-9-]+$/.test(manifest.name)) {
    throw new TypeError(`deno.json: "name" must be "@scope/name", got ${manifest.name}`);
  }
  if (
    typeof manifest.version !== "string" ||
    !/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(manifest.version)
  ) {
    throw new TypeError(`deno.json: "version" must be semver, got ${manifest.version}`);
  }
  if (typeof manifest.license !== "string" || manifest.license === "") {
    throw new TypeError(`deno.json: "license" is missing`);
  }
  if (manifest.exports === undefined) throw new TypeError(`deno.json: "exports" is missing`);
  const manifestWithExports = manifest as DenoManifest;
  for (const [subpath, target] of Object.entries(exportMap(manifestWithExports))) {
    if (subpath !== "." && !/^\.\/[^/].*$/.test(subpath)) {
      throw new TypeError(`deno.json: export "${subpath}" must be "." or start with "./"`);
    }
    if (!/^\.\/.+\.ts$/.test(target)) {
      throw new TypeError(`deno.json: export "${subpath}" must point to a ./…ts file: ${target}`);
    }
  }
  return manifestWithExports;
}

/**
 * The exports as a subpath → file map (a single string export is `"."`).
 *
 * @param manifest deno.json.
 * @returns The map, in deno.json's order.
 */
export function exportMap(manifest: Pick<DenoManifest, "exports">): Record<string, string> {
  return typeof manifest.exports === "string" ? { ".": manifest.exports } : manifest.exports;
}

/**
 * The import specifier of an export: `@scope/name` or `@scope/name/sub`.
 *
 * @param name The package name.
 * @param subpath The export's subpath (`"."`, `"./codec"`).
 * @returns The specifier.
 */
export function specifierOf(name: string, subpath: string): string {
  return subpath === "." ? name : `${name}${subpath.slice(1)}`;
}

/**
 * jsr.json, derived: the fields JSR reads, copied from deno.json.
 *
 * @param deno deno.json.
 * @returns jsr.json's content.
 */
export function jsrManifest(deno: DenoManifest): Record<string, unknown> {
  const jsr: Record<string, unknown> = {
    name: deno.name,
    version: deno.version,
    license: deno.license,
    exports: deno.exports,
  };
  if (deno.publish !== undefined) jsr.publish = deno.publish;
  return jsr;
}

/**
 * deno.json's import map with one entry per export, named after the package
 * (`"@spoa/agent/codec": "./src/codec/mod.ts"`), so that the repository's own
 * files can import the package by name; other entries are kept, stale
 * self-entries dropped.
 *
 * @param deno deno.json.
 * @returns The import map deno.json should have.
 */
export function selfImports(deno: DenoManifest): Record<string, string> {
  const imports: Record<string, string> = {};
  for (const [key, value] of Object.entries(deno.imports ?? {})) {
    if (key !== deno.name && !key.startsWith(`${deno.name}/`)) imports[key] = value;
  }
  for (const [subpath, target] of Object.entries(exportMap(deno))) {
    imports[specifierOf(deno.name, subpath)] = target;
  }
  return imports;
}

/**
 * The compiled file of a TypeScript source: `./src/x.ts` → `./src/x.js`.
 *
 * @param target A `./…ts` path.
 * @param extension `.js` or `.d.ts`.
 * @returns The path with the new extension.
 */
export function compiledPath(target: string, extension: ".js" | ".d.ts"): string {
  return target.replace(/\.ts$/, extension);
}

/**
 * The first paragraph of a module's leading documentation comment.
 *
 * @param source The module's text.
 * @returns The paragraph on one line, or "" without one.
 */
export function moduleSummary(source: string): string {
  const comment = /^\s*\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? "";
  const lines = comment.split("\n").map((line) => line.replace(/^\s*\* ?/, "").trim());
  const start = lines.findIndex((line) => line !== "");
  if (start < 0) return "";
  const end = lines.indexOf("", start);
  return lines.slice(start, end < 0 ? undefined : end).join(" ");
}

/**
 * The package.json of the npm build, derived from deno.json: same name,
 * version, license and export subpaths, each export mapped to its compiled
 * `.js` with its `.d.ts`; ESM, no dependencies.
 *
 * @param deno deno.json.
 * @param description The package description.
 * @returns package.json's content.
 */
export function npmManifest(deno: DenoManifest, description: string): NpmManifest {
  const exports: Record<string, NpmExport> = {};
  for (const [subpath, target] of Object.entries(exportMap(deno))) {
    exports[subpath] = {
      types: compiledPath(target, ".d.ts"),
      default: compiledPath(target, ".js"),
    };
  }
  return {
    name: deno.name,
    version: deno.version,
    description,
    license: deno.license,
    type: "module",
    exports,
    engines: { node: NPM_NODE_ENGINE },
  };
}

/**
 * JSON as the repository writes it: two-space indent, final newline.
 *
 * @param value The value.
 * @returns The text.
 */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
