import { haveSystemTools, REQUIRE_ENV, recordSkip } from "../../../test/support/system-tools.js";
import { sandboxSupport } from "../src/support.js";

const SUITE =
  "real sandboxes: containment, launch, limits, the agent demo, the README choke point, release builds";
const tools = haveSystemTools(SUITE, ["bwrap", "prlimit"]);
const support = tools ? await sandboxSupport() : { ok: false, reason: "bwrap or prlimit is missing" };

/**
 * Real-sandbox tests skip only where bwrap is missing or cannot run, with a line in the summary at
 * the end of npm test, and never in CI: a runner that cannot make namespaces must fail them, not
 * pass them by skipping.
 */
export const skipRealSandbox =
  !support.ok && process.env.CI === undefined && process.env[REQUIRE_ENV] !== "1";
export const supportReason = support.reason ?? "";

if (skipRealSandbox && tools) {
  recordSkip({ suite: SUITE, missing: [], packages: [], reason: supportReason });
}
