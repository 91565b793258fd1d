import { readFileSync } from "node:fs";
import { join } from "node:path";
import { build, type Plugin } from "esbuild";
import { BUNDLE_NODE_TARGET } from "./config.js";
import type { SourceInfo } from "./source-info.js";

export type BundleFormat = "esm" | "cjs";

/** Our workspace packages, bundled from their TypeScript sources in the tree being built. */
const WORKSPACE_PACKAGES = ["verify", "cli"] as const;

/** The options of tsconfig.base.json that change emitted JavaScript. */
const TSCONFIG = {
  compilerOptions: {
    alwaysStrict: true,
    verbatimModuleSyntax: true,
    useDefineForClassFields: true,
    target: "ES2022",
  },
} as const;

/** ESM output keeps require() for the bundled CommonJS dependencies that load Node built-ins. */
const ESM_REQUIRE_BANNER =
  'import { createRequire as __ironclawCreateRequire } from "node:module";\nconst require = __ironclawCreateRequire(import.meta.url);';

/**
 * Resolves `@ironclaw/<package>[/<entry>]` to that entry's TypeScript source in the tree being built
 * (its `ironclaw-source` export), never to node_modules' links, which point at the developer's checkout.
 */
function workspaceSources(root: string): Plugin {
  return {
    name: "ironclaw-workspace-sources",
    setup(builder) {
      builder.onResolve({ filter: /^@ironclaw\// }, ({ path }) => {
        const [, name = "", ...rest] = path.split("/");
        if (!(WORKSPACE_PACKAGES as readonly string[]).includes(name)) {
          return { errors: [{ text: `${path} is not a package the release bundles` }] };
        }
        const directory = join(root, "packages", name);
        const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as {
          exports: Record<string, { "ironclaw-source"?: string }>;
        };
        const entry = manifest.exports[rest.length === 0 ? "." : `./${rest.join("/")}`]?.["ironclaw-source"];
        if (entry === undefined) return { errors: [{ text: `${path} is not exported by ${name}` }] };
        return { path: join(directory, entry) };
      });
    },
  };
}

/**
 * One file with the whole CLI. Every option that affects the bytes is set here: the entry, platform,
 * target, format, working directory, minification (which also drops the path comments esbuild would
 * write), legal comments at the end, no source map, no metafile. The version and commit come from
 * the source, never from the clock.
 */
export async function bundleCli(source: SourceInfo, format: BundleFormat): Promise<Uint8Array> {
  // A build of uncommitted changes says so in the version it reports.
  const buildInfo = {
    version: source.version,
    commit: source.dirty ? `${source.commit}-dirty` : source.commit,
  };
  const result = await build({
    absWorkingDir: source.root,
    entryPoints: [join(source.root, "packages", "cli", "src", "bundle-entry.ts")],
    bundle: true,
    write: false,
    platform: "node",
    target: BUNDLE_NODE_TARGET,
    format,
    plugins: [workspaceSources(source.root)],
    // One TypeScript configuration for every file. Left to find tsconfig.json files itself, esbuild
    // applies whichever one it meets first on a parallel path, so "use strict" came and went between
    // builds (evanw/esbuild#3284).
    tsconfigRaw: TSCONFIG,
    preserveSymlinks: true,
    define: { IRONCLAW_BUILD_INFO: JSON.stringify(buildInfo) },
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: false,
    keepNames: false,
    legalComments: "eof",
    charset: "utf8",
    sourcemap: false,
    metafile: false,
    treeShaking: true,
    logLevel: "silent",
    ...(format === "esm" ? { banner: { js: ESM_REQUIRE_BANNER } } : {}),
  });
  const [output] = result.outputFiles;
  if (output === undefined || result.outputFiles.length !== 1)
    throw new Error("esbuild did not produce exactly one bundle");
  return output.contents;
}
