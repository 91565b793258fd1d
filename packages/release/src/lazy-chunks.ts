import { createHash } from "node:crypto";
import { basename } from "node:path";
import { type OutputFile, transform } from "esbuild";
import { deflateSync } from "fflate";
import {
  CODE_CACHE_MAX_BYTES,
  CODE_CACHE_MIN_SOURCE,
  chunkSource,
  codeCacheDirectory,
  executableKey,
  loadChunks,
  pruneCodeCache,
  readCodeCache,
  writeCodeCache,
} from "./chunk-loader.js";

/** The name, inside the script, of the entry chunk esbuild wrote for `bundle-entry.ts`. */
export const ENTRY_CHUNK = "./bundle-entry.js";

/**
 * Where the script runs: `node ironclaw.cjs`, whose chunks see the script's file URL as
 * `import.meta.url` and are held in the script, or inside a standalone executable, whose chunks are
 * single-executable assets (read from the executable only when required) and see none.
 */
export type ScriptHost = "node" | "executable";

/** The released script, and for an executable the assets its blob carries: each chunk's source, by name. */
export interface JoinedScript {
  readonly script: Uint8Array;
  readonly assets: ReadonlyMap<string, Uint8Array>;
}

/**
 * Turns esbuild's split ESM output (an entry and its chunks) into one CommonJS script whose chunks
 * load on demand (chunk-loader.ts), read and compiled the first time one is required. Each chunk
 * becomes CommonJS (its imports `require()` calls, dynamic ones included) and takes `import.meta.url`
 * from a getter. For node, each chunk sits in a comment of its own function, which V8 skips without
 * making a string of it: small ones as JSON strings, large ones as raw DEFLATE (fflate, pinned, so the
 * bytes are the same wherever the release is rebuilt) in base64, because V8 and Node still read and
 * scan every byte of a comment, and 2.7 MB of it cost a quarter of Node's own start-up. The script is
 * CommonJS because an ES module entry alone costs a fifth of it. Chunks are in name order, so the
 * bytes depend only on esbuild's output. The script is ASCII: V8 scans a one-byte source much faster
 * than a two-byte one, and one non-ASCII character makes the whole source two-byte.
 */
export async function joinLazyChunks(
  outputs: readonly OutputFile[],
  host: ScriptHost,
  target: string,
): Promise<JoinedScript> {
  const holders: [string, string][] = [];
  const identities: [string, [string, number]][] = [];
  const assets = new Map<string, Uint8Array>();
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
      define: { "import.meta.url": "__ironclawModule.url" },
      logLevel: "silent",
    });
    const name = `./${basename(output.path)}`;
    const source = `"use strict";${converted.code}`;
    const large = source.length >= CODE_CACHE_MIN_SOURCE;
    if (host === "executable") {
      assets.set(name.slice(2), Buffer.from(source, "utf8"));
      holders.push([name, JSON.stringify(name.slice(2))]);
    } else holders.push([name, large ? compressedHolder(source) : holder(source)]);
    if (large)
      identities.push([name, [createHash("sha256").update(source).digest("hex"), Buffer.byteLength(source)]]);
  }
  if (!holders.some(([name]) => name === ENTRY_CHUNK))
    throw new Error(`esbuild wrote no ${ENTRY_CHUNK} among ${holders.map(([name]) => name).join(", ")}`);
  const moduleUrl =
    host === "node"
      ? '{get url(){return require("node:url").pathToFileURL(__filename).href}}'
      : "{url:void 0}";
  const script = [
    '"use strict";\n',
    ...[
      codeCacheDirectory,
      executableKey,
      readCodeCache,
      writeCodeCache,
      pruneCodeCache,
      chunkSource,
      loadChunks,
    ].map((f) => `${f.toString()}\n`),
    `loadChunks(new Map([${holders.map(([name, text]) => `[${JSON.stringify(name)},${text}]`).join(",")}]),`,
    `new Map(${JSON.stringify(identities)}),`,
    `${JSON.stringify(ENTRY_CHUNK)},${moduleUrl},require,`,
    `{directory:codeCacheDirectory,key:executableKey,read:readCodeCache,write:writeCodeCache,prune:pruneCodeCache,maxBytes:${CODE_CACHE_MAX_BYTES}});\n`,
  ].join("");
  if (/[^\x00-\x7f]/.test(script)) throw new Error("the joined script is not ASCII");
  return { script: Buffer.from(script, "ascii"), assets };
}

/** A function whose only content is `source` as a JSON string in a comment; chunkSource reads it back. */
export function holder(source: string): string {
  return `function(){/*${escapeNonAscii(JSON.stringify(source)).replace(/\*\//g, "*\\/")}*/}`;
}

/** A function whose only content is `source`'s UTF-8 as raw DEFLATE in base64, which holds no `*`. */
export function compressedHolder(source: string): string {
  const deflated = deflateSync(Buffer.from(source, "utf8"), { level: 9, mem: 12 });
  return `function(){/*z:${Buffer.from(deflated).toString("base64")}*/}`;
}

/** JSON.stringify leaves non-ASCII characters as they are; \u escapes keep the script one-byte. */
function escapeNonAscii(json: string): string {
  return json.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
