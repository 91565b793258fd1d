import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The official node binaries the executables embed, installed from the npm registry into
 * packages/release/targets with `npm ci`, so the lockfile's integrity hashes pin their bytes.
 * `--force` because the packages declare other platforms; `--ignore-scripts` because none is needed.
 */
export async function ensureTargetNodes(targetsDir: string): Promise<string> {
  const modules = join(targetsDir, "node_modules");
  try {
    await access(join(modules, ".package-lock.json"));
  } catch {
    await run("npm", ["ci", "--force", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: targetsDir,
      maxBuffer: 16 * 1024 * 1024,
    });
  }
  return modules;
}

export function nodeBinary(
  modules: string,
  node: { readonly package: string; readonly binary: string },
): string {
  return join(modules, node.package, node.binary);
}
