#!/usr/bin/env node
// `npm test`: lint, type checks, vitest and the conformance corpus, each run whatever the one before
// it did, then one summary: each step's result and every suite skipped for want of a system tool or
// a corpus, with the one apt-get line that brings them. Exits non-zero if any step failed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSkips, renderSkipSummary } from "./skip-summary.mjs";

const STEPS = [
  ["lint", "npm", ["run", "lint"]],
  ["typecheck", "npm", ["run", "typecheck"]],
  ["vitest", "npx", ["vitest", "run"]],
  ["conformance", "npm", ["run", "conformance"]],
];

const dir = mkdtempSync(join(tmpdir(), "ironclaw-skips-"));
const log = join(dir, "skips.jsonl");
const env = { ...process.env, IRONCLAW_SKIP_LOG: log };
const results = [];
for (const [name, command, args] of STEPS) {
  const run = spawnSync(command, args, { stdio: "inherit", env });
  results.push([name, run.status === 0 ? "ok" : `FAILED (exit ${run.status ?? run.signal})`]);
}
const summary = renderSkipSummary(readSkips(log));
rmSync(dir, { recursive: true, force: true });
console.log(`\nnpm test: ${results.map(([name, result]) => `${name} ${result}`).join(", ")}`);
if (summary !== undefined) console.warn(summary);
process.exit(results.every(([, result]) => result === "ok") ? 0 : 1);
