import { join } from "node:path";
import { bundleRuntimeSource } from "@ironclaw/sandbox";
import { type BuildOptions, build } from "esbuild";
import { BUNDLE_NODE_TARGET } from "./config.js";
import { deterministicBundleOptions, lazyNodeBuiltins } from "./esbuild-inputs.js";
import type { SourceInfo } from "./source-info.js";

export type BundleFormat = "esm" | "cjs";

/** Our workspace packages, bundled from their TypeScript sources in the tree being built. */
const WORKSPACE_PACKAGES = [
  "verify",
  "package-store",
  "gateway",
  "egress",
  "model-proxy",
  "sandbox",
  "mcp-broker",
  "console",
  "cli",
] as const;

/** Needed only to bundle sandbox runtimes from source, which a released ironclaw never does. */
const EXTERNAL = ["esbuild"];

/** ESM output keeps require() for the bundled CommonJS dependencies that load Node built-ins. */
const ESM_REQUIRE_BANNER =
  'import { createRequire as __ironclawCreateRequire } from "node:module";\nconst require = __ironclawCreateRequire(import.meta.url);';

/**
 * One file with the whole CLI. Every option that affects the bytes is set here: the entry, platform,
 * target, format, working directory, minification (which also drops the path comments esbuild would
 * write), legal comments at the end, no source map, no metafile. The version and commit come from
 * the source, never from the clock.
 */
/** The scripted agent runtime, built as `npm run build` builds it, carried inside the CLI so a released `ironclaw up` can run agents. */
async function bundleAgentRuntime(root: string): Promise<string> {
  const source = await bundleRuntimeSource(join(root, "packages", "sandbox", "src", "agent", "main.ts"));
  return Buffer.from(source).toString("utf8");
}

/** Every esbuild option of the CLI bundle; bundleCli builds with exactly these. */
export async function cliBundleOptions(
  source: SourceInfo,
  format: BundleFormat,
): Promise<BuildOptions & { write: false }> {
  // A build of uncommitted changes says so in the version it reports.
  const buildInfo = {
    version: source.version,
    commit: source.dirty ? `${source.commit}-dirty` : source.commit,
  };
  const options = deterministicBundleOptions(source.root, WORKSPACE_PACKAGES);
  return {
    ...options,
    plugins: [...(options.plugins ?? []), ...(format === "esm" ? [lazyNodeBuiltins()] : [])],
    entryPoints: [join(source.root, "packages", "cli", "src", "bundle-entry.ts")],
    external: EXTERNAL,
    target: BUNDLE_NODE_TARGET,
    format,
    define: {
      IRONCLAW_BUILD_INFO: JSON.stringify(buildInfo),
      IRONCLAW_AGENT_RUNTIME: JSON.stringify(await bundleAgentRuntime(source.root)),
    },
    ...(format === "esm" ? { banner: { js: ESM_REQUIRE_BANNER } } : {}),
  };
}

export async function bundleCli(source: SourceInfo, format: BundleFormat): Promise<Uint8Array> {
  const result = await build(await cliBundleOptions(source, format));
  const [output] = result.outputFiles;
  if (output === undefined || result.outputFiles.length !== 1)
    throw new Error("esbuild did not produce exactly one bundle");
  return output.contents;
}
