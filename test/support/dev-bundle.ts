import { spawnSync } from "node:child_process";

/** Why bin/ironclaw.js will not run the dev bundle (its IC_DEV_BUILD_… line), or undefined when it will. */
export function devBundleProblem(bin: string): string | undefined {
  const child = spawnSync(process.execPath, [bin, "--version"], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
    timeout: 30_000,
  });
  const refusal = /IC_DEV_BUILD_[A-Z]+: .*/.exec(child.stderr ?? "");
  return child.status === 3 && refusal !== null ? refusal[0] : undefined;
}

/**
 * Rebuilds the dev bundle when it is missing or older than a source, so the tests that start the CLI
 * run the tree's code as the in-process tests do. Returns what was wrong, or undefined when nothing
 * was; throws when the rebuild did not help.
 */
export function ensureDevBundle(bin: string, rebuild: () => void): string | undefined {
  const problem = devBundleProblem(bin);
  if (problem === undefined) return undefined;
  rebuild();
  const after = devBundleProblem(bin);
  if (after !== undefined) throw new Error(`the dev bundle is still refused after a rebuild: ${after}`);
  return problem;
}
