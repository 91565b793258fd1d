// The summary of suites skipped for want of a system tool or a corpus, printed at the very end of
// `npm test` (and of a bare `vitest run`). Its records are JSON lines written by the suites themselves.
import { existsSync, readFileSync } from "node:fs";

export function readSkips(log) {
  if (log === undefined || !existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
}

/** A box nobody scrolls past, or undefined when nothing was skipped. */
export function renderSkipSummary(skips) {
  if (skips.length === 0) return undefined;
  const bySuite = new Map();
  for (const skip of skips) bySuite.set(skip.suite, skip);
  const packages = [...new Set(skips.flatMap((skip) => skip.packages ?? []))].sort();
  const lines = [
    `npm test: ${bySuite.size} suite${bySuite.size === 1 ? "" : "s"} SKIPPED on this machine (CI runs them all):`,
    ...[...bySuite.values()].map(
      (skip) =>
        `  - ${skip.suite}: ${skip.missing?.length ? `needs ${skip.missing.join(", ")}` : skip.reason}`,
    ),
  ];
  if (packages.length > 0) lines.push(`To run them: sudo apt-get install -y ${packages.join(" ")}`);
  lines.push("Set IRONCLAW_REQUIRE_SYSTEM_TOOLS=1 to make a missing tool a failure instead.");
  const bar = "!".repeat(78);
  return [bar, ...lines.map((line) => `!! ${line}`), bar].join("\n");
}
