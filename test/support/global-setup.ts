import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSkips, renderSkipSummary } from "../../scripts/skip-summary.mjs";
import { SKIP_LOG_ENV } from "./system-tools.js";

/**
 * A bare `vitest run` records skipped suites too and prints their summary last; under
 * scripts/run-tests.mjs the log is that script's, which prints one summary for all of `npm test`.
 */
export default function setup(): () => void {
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
