import { join } from "node:path";
import { bundleRuntimeSource } from "@ironclaw/sandbox";
import { type BuildOptions, build } from "esbuild";
import { BUNDLE_NODE_TARGET } from "./config.js";
import { deterministicBundleOptions, lazyCommanderChildProcess } from "./esbuild-inputs.js";
import { type JoinedScript, joinLazyChunks, type ScriptHost } from "./lazy-chunks.js";
import type { SourceInfo } from "./source-info.js";

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

/** The scripted agent runtime, built as `npm run build` builds it, carried inside the CLI so a released `ironclaw up` can run agents. */
async function bundleAgentRuntime(root: string): Promise<string> {
  const source = await bundleRuntimeSource(join(root, "packages", "sandbox", "src", "agent", "main.ts"));
  return Buffer.from(source).toString("utf8");
}

/**
 * Every esbuild option of the CLI bundle; bundleCli builds with exactly these. Every option that
 * affects the bytes is set here (deterministicBundleOptions has the shared ones); the version and
 * commit come from the source, never from the clock. esbuild splits the CLI
 * at its dynamic imports into ESM chunks (in memory, under a directory that is never written), which
 * joinLazyChunks puts into the one CommonJS script a release ships, for node or for an executable.
 */
export async function cliBundleOptions(source: SourceInfo): Promise<BuildOptions & { write: false }> {
  // A build of uncommitted changes says so in the version it reports.
  const buildInfo = {
    version: source.version,
    commit: source.dirty ? `${source.commit}-dirty` : source.commit,
  };
  const options = deterministicBundleOptions(source.root, WORKSPACE_PACKAGES);
  return {
    ...options,
    plugins: [...(options.plugins ?? []), lazyCommanderChildProcess()],
    entryPoints: [join(source.root, "packages", "cli", "src", "bundle-entry.ts")],
    external: EXTERNAL,
    target: BUNDLE_NODE_TARGET,
    format: "esm",
    splitting: true,
    outdir: join(source.root, "ironclaw-chunks"),
    entryNames: "[name]",
    chunkNames: "chunk-[hash]",
    charset: "ascii",
    define: {
      // Strings, which esbuild inlines where they are used: an object would become a shared variable
      // every module initialises, and `--version` would need a chunk besides the entry.
      IRONCLAW_VERSION: JSON.stringify(buildInfo.version),
      IRONCLAW_COMMIT: JSON.stringify(buildInfo.commit),
      IRONCLAW_AGENT_RUNTIME: JSON.stringify(await bundleAgentRuntime(source.root)),
      IRONCLAW_PROBE_RUNTIME: JSON.stringify(
        Buffer.from(
          await bundleRuntimeSource(
            join(source.root, "packages", "sandbox", "src", "containment", "probe.ts"),
          ),
        ).toString("utf8"),
      ),
    },
  };
}

export async function bundleCli(source: SourceInfo, host: ScriptHost): Promise<JoinedScript> {
  const result = await build(await cliBundleOptions(source));
  return joinLazyChunks(result.outputFiles, host, BUNDLE_NODE_TARGET);
}
