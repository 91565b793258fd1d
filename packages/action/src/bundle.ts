import { join } from "node:path";
import { deterministicBundleOptions } from "@ironclaw/release";
import { build } from "esbuild";

/** The file action.yml's `runs.main` names, under packages/action/dist. */
export const ACTION_BUNDLE_NAME = "action.cjs";

/** The runtime action.yml asks for (`runs.using: node20`), and the syntax esbuild may emit for it. */
export const ACTION_NODE_TARGET = "node20";

/** Our workspace packages the Action may bundle: the verification library, nothing else. */
const WORKSPACE_PACKAGES = ["verify"];

/**
 * The whole Action as one CommonJS file that needs nothing but Node (a runner does not install the
 * Action's dependencies). Every option that affects the bytes is set here, so two bundles of one
 * tree are identical: no source map, no metafile, minified whitespace and syntax (which also drops
 * esbuild's path comments), legal comments kept at the end, paths relative to `root`.
 */
export async function bundleAction(root: string): Promise<Uint8Array> {
  const result = await build({
    ...deterministicBundleOptions(root, WORKSPACE_PACKAGES),
    entryPoints: [join(root, "packages", "action", "src", "action-entry.ts")],
    target: ACTION_NODE_TARGET,
    format: "cjs",
  });
  // A warning here is a bundle that may break at run time (an unresolvable require, import.meta in
  // CommonJS), so it fails the build instead of scrolling past.
  if (result.warnings.length > 0) {
    throw new Error(
      `esbuild warned while bundling the Action; expected a clean bundle:\n${result.warnings.map((w) => `${w.location?.file ?? ""}: ${w.text}`).join("\n")}`,
    );
  }
  const [output] = result.outputFiles;
  if (output === undefined || result.outputFiles.length !== 1) {
    throw new Error(`esbuild produced ${result.outputFiles.length} files; expected the Action as one bundle`);
  }
  return output.contents;
}
