import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readSkips, renderSkipSummary } from "../../scripts/skip-summary.mjs";
import { ensureDevBundle } from "./dev-bundle.js";
import { SKIP_LOG_ENV } from "./system-tools.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Tests that start bin/ironclaw.js run packages/cli/dist/ironclaw-dev.cjs, which refuses to run when a
 * source changed after it was built, so it is rebuilt here first, as the one line printed says
 * (esbuild alone, ~1 s: no type check, since vitest runs sources that do not type-check). A rebuild
 * that fails is printed and the run goes on: the in-process tests still run, those that start the CLI
 * fail with its refusal.
 */
function refreshDevBundle(): void {
  const bin = join(root, "packages", "cli", "bin", "ironclaw.js");
  try {
    const rebuilt = ensureDevBundle(bin, () => {
      const script = join(root, "packages", "cli", "scripts", "bundle-dev.mjs");
      const build = spawnSync(process.execPath, [script], { encoding: "utf8" });
      if (build.status !== 0)
        throw new Error(`exit ${build.status ?? build.signal}:\n${build.stderr}${build.stdout}`);
    });
    if (rebuilt !== undefined) console.warn(`vitest: rebuilt the dev bundle first (${rebuilt})`);
  } catch (error) {
    console.warn(`vitest: could not rebuild the dev bundle; tests that start the CLI will fail: ${error}`);
  }
}

/**
 * A bare `vitest run` records skipped suites too and prints their summary last; under
 * scripts/run-tests.mjs the log is that script's, which prints one summary for all of `npm test`.
 */
export default function setup(): () => void {
  refreshDevBundle();
  if ((process.env[SKIP_LOG_ENV] ?? "") !== "") return () => {};
  const dir = mkdtempSync(join(tmpdir(), "ironclaw-skips-"));
  const log = join(dir, "skips.jsonl");
  process.env[SKIP_LOG_ENV] = log;
  return () => {
    const summary = renderSkipSummary(readSkips(log));
    if (summary !== undefined) console.warn(`\n${summary}`);
    rmSync(dir, { recursive: true, force: true });
  };
}
