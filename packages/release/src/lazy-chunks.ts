import { createHash } from "node:crypto";
import { basename } from "node:path";
import { type OutputFile, transform } from "esbuild";
import {
  CODE_CACHE_MIN_SOURCE,
  chunkSource,
  codeCacheDirectory,
  loadChunks,
  readCodeCache,
  writeCodeCache,
} from "./chunk-loader.js";

/** The name, inside the script, of the entry chunk esbuild wrote for `bundle-entry.ts`. */
export const ENTRY_CHUNK = "./bundle-entry.js";

/** ESM keeps require() for the loader and the chunks: Node built-ins load when a chunk needs them. */
const ESM_PRELUDE =
  'import{createRequire as __icCreateRequire}from"node:module";const require=__icCreateRequire(import.meta.url);\n';

/**
 * Turns esbuild's split ESM output (an entry and its chunks) into one script, ESM for `node
 * ironclaw.mjs` or CommonJS for a single-executable application, whose chunks load on demand
 * (chunk-loader.ts): each a JSON string in a comment of its own function, which V8 skips without
 * making a string of it, read back and compiled the first time the chunk is required. Each
 * chunk becomes CommonJS (its imports `require()` calls, dynamic ones included) and takes
 * `import.meta.url` as a parameter. Chunks are in name order, so the bytes depend only on esbuild's
 * output. The script is ASCII: V8 scans a one-byte source much faster than a two-byte one, and one
 * non-ASCII character makes the whole source two-byte.
 */
export async function joinLazyChunks(
  outputs: readonly OutputFile[],
  format: "esm" | "cjs",
  target: string,
): Promise<Uint8Array> {
  const chunks: [string, string][] = [];
  const digests: [string, string][] = [];
  for (const output of [...outputs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const converted = await transform(output.text, {
      format: "cjs",
      loader: "js",
      target,
      charset: "ascii",
      minifyWhitespace: true,
      minifySyntax: true,
      // import() of a chunk becomes a require() of it, which the loader answers.
      supported: { "dynamic-import": false },
      define: { "import.meta.url": "__ironclawModuleUrl" },
      logLevel: "silent",
    });
    const name = `./${basename(output.path)}`;
    const source = `"use strict";${converted.code}`;
    chunks.push([name, source]);
    if (source.length >= CODE_CACHE_MIN_SOURCE)
      digests.push([name, createHash("sha256").update(source).digest("hex")]);
  }
  if (!chunks.some(([name]) => name === ENTRY_CHUNK))
    throw new Error(`esbuild wrote no ${ENTRY_CHUNK} among ${chunks.map(([name]) => name).join(", ")}`);
  const moduleUrl = format === "esm" ? "import.meta.url" : "void 0";
  const script = [
    format === "esm" ? ESM_PRELUDE : '"use strict";\n',
    ...[chunkSource, codeCacheDirectory, readCodeCache, writeCodeCache, loadChunks].map(
      (f) => `${f.toString()}\n`,
    ),
    `loadChunks(new Map([${chunks.map(([name, source]) => `[${JSON.stringify(name)},${holder(source)}]`).join(",")}]),`,
    `new Map(${JSON.stringify(digests)}),`,
    `${JSON.stringify(ENTRY_CHUNK)},${moduleUrl},require,`,
    "{directory:codeCacheDirectory,read:readCodeCache,write:writeCodeCache});\n",
  ].join("");
  if (/[^\x00-\x7f]/.test(script)) throw new Error("the joined script is not ASCII");
  return Buffer.from(script, "ascii");
}

/** A function whose only content is `source` as a JSON string in a comment; chunkSource reads it back. */
export function holder(source: string): string {
  return `function(){/*${escapeNonAscii(JSON.stringify(source)).replace(/\*\//g, "*\\/")}*/}`;
}

/** JSON.stringify leaves non-ASCII characters as they are; \u escapes keep the script one-byte. */
function escapeNonAscii(json: string): string {
  return json.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
