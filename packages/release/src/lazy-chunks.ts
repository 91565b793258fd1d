import { basename } from "node:path";
import { type OutputFile, transform } from "esbuild";

/** The name, inside the script, of the entry chunk esbuild wrote for `bundle-entry.ts`. */
export const ENTRY_CHUNK = "./bundle-entry.js";

/** The parameter a chunk reads for `import.meta.url`: the bundle's URL in ESM, undefined in CommonJS. */
const MODULE_URL = "__ironclawModuleUrl";

/**
 * The loader at the top of the script, hand-written because it is the whole mechanism: chunks are
 * strings (which V8 only scans), compiled with vm the first time one is required, so a command
 * compiles its own code and what it shares, never the rest. A name that is not a chunk is a Node
 * built-in (or esbuild, external), handed to the real require.
 */
function loader(chunks: string, moduleUrl: string): string {
  return `const __icChunks=new Map(${chunks}),__icLoaded=new Map(),__icVm=require("node:vm");
function __icRequire(name){const loaded=__icLoaded.get(name);if(loaded!==undefined)return loaded.exports;const source=__icChunks.get(name);if(source===undefined)return require(name);const module={exports:{}};__icLoaded.set(name,module);new __icVm.Script("(function(exports,require,module,${MODULE_URL}){"+source+"\\n})",{filename:"ironclaw/"+name.slice(2)}).runInThisContext()(module.exports,__icRequire,module,${moduleUrl});return module.exports}
__icRequire(${JSON.stringify(ENTRY_CHUNK)});
`;
}

/** ESM keeps require() for the loader and the chunks: Node built-ins load when a chunk needs them. */
const ESM_PRELUDE =
  'import{createRequire as __icCreateRequire}from"node:module";const require=__icCreateRequire(import.meta.url);\n';

/**
 * Turns esbuild's split ESM output (an entry and its chunks) into one script, ESM for `node
 * ironclaw.mjs` or CommonJS for a single-executable application, whose chunks load on demand. Each
 * chunk becomes CommonJS (its imports `require()` calls, dynamic ones included) and a string in the
 * script, in name order, so the bytes depend only on esbuild's output. The script is ASCII: V8 scans
 * a one-byte source much faster than a two-byte one, and one non-ASCII character makes it two-byte.
 */
export async function joinLazyChunks(
  outputs: readonly OutputFile[],
  format: "esm" | "cjs",
  target: string,
): Promise<Uint8Array> {
  const chunks: [string, string][] = [];
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
      define: { "import.meta.url": MODULE_URL },
      logLevel: "silent",
    });
    chunks.push([`./${basename(output.path)}`, `"use strict";${converted.code}`]);
  }
  if (!chunks.some(([name]) => name === ENTRY_CHUNK))
    throw new Error(`esbuild wrote no ${ENTRY_CHUNK} among ${chunks.map(([name]) => name).join(", ")}`);
  const table = escapeNonAscii(JSON.stringify(chunks));
  const script =
    format === "esm"
      ? `${ESM_PRELUDE}${loader(table, "import.meta.url")}`
      : `"use strict";\n${loader(table, "void 0")}`;
  if (/[^\x00-\x7f]/.test(script)) throw new Error("the joined script is not ASCII");
  return Buffer.from(script, "ascii");
}

/** JSON.stringify leaves non-ASCII characters as they are; \u escapes keep the script one-byte. */
function escapeNonAscii(json: string): string {
  return json.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
