import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { SandboxError } from "./errors.js";

export interface BundleRuntimeOptions {
  /** The program's entry, a .ts (or .js) file. */
  readonly entry: string;
  readonly outDir: string;
  /** A file name ending in .mjs. */
  readonly outName: string;
}

/** ESM output keeps require() working for bundled CommonJS dependencies that load Node built-ins. */
const ESM_REQUIRE_BANNER =
  'import { createRequire as __ironclawCreateRequire } from "node:module";\nconst require = __ironclawCreateRequire(import.meta.url);';

/**
 * One self-contained ESM program for the sandbox, which has no node_modules. Every option that affects
 * the bytes is set, as packages/release does: one tsconfig for every file, the entry's directory as the
 * working directory, minified whitespace and syntax (which drops esbuild's path comments), no source
 * map, no metafile. The release build embeds the same bytes in the CLI.
 */
export async function bundleRuntimeSource(entry: string): Promise<Uint8Array> {
  try {
    // Loaded only when a runtime is bundled: the release's ironclaw carries no esbuild.
    const { build } = await import("esbuild");
    const result = await build({
      entryPoints: [entry],
      absWorkingDir: dirname(entry),
      bundle: true,
      write: false,
      platform: "node",
      format: "esm",
      target: "node20",
      banner: { js: ESM_REQUIRE_BANNER },
      tsconfigRaw: {
        compilerOptions: {
          alwaysStrict: true,
          verbatimModuleSyntax: true,
          useDefineForClassFields: true,
          target: "ES2022",
        },
      },
      preserveSymlinks: true,
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
    });
    const [output] = result.outputFiles;
    if (output === undefined || result.outputFiles.length !== 1)
      throw new Error("esbuild did not produce exactly one file");
    return output.contents;
  } catch (error) {
    throw new SandboxError("IC_SANDBOX_BUNDLE_FAILED", `bundling ${entry} failed`, { cause: error });
  }
}

/** The bundled program written into outDir; returns the file's path. */
export async function bundleRuntime(options: BundleRuntimeOptions): Promise<string> {
  // The sandbox has no package.json to say "type": "module", so only .mjs is read as ESM.
  if (!options.outName.endsWith(".mjs") || options.outName.includes("/"))
    throw new SandboxError(
      "IC_SANDBOX_BUNDLE_FAILED",
      `outName must be a file name ending in .mjs: ${options.outName}`,
    );
  const contents = await bundleRuntimeSource(options.entry);
  await mkdir(options.outDir, { recursive: true });
  const path = join(options.outDir, options.outName);
  // Written beside and renamed, so a running sandbox never reads half a bundle.
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, contents);
  await rename(partial, path);
  return path;
}
