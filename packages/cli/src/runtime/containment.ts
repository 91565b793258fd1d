import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEgressBroker } from "@ironclaw/egress";
import { createMemoryLedger, loadModelProviders, startModelProxy } from "@ironclaw/model-proxy";
import { type ContainmentReport, type ModelProxyHook, runContainmentSelftest } from "@ironclaw/sandbox";
import { buildInfo } from "../version.js";

/**
 * The real model proxy for the self-test's "model" run: the offline mock approved under the run's
 * budget, beside an Anthropic provider holding the host's (planted) key, which must never be seen
 * inside the sandbox.
 */
const realModelProxy: ModelProxyHook = {
  async start(socketPath, { dailyTokens, keyFile }) {
    const dir = await mkdtemp(join(tmpdir(), "ironclaw-selftest-models-"));
    try {
      const file = join(dir, "model-providers.json");
      await writeFile(
        file,
        JSON.stringify({ providers: [{ name: "anthropic", type: "anthropic", apiKeyFile: keyFile }] }),
      );
      const providers = await loadModelProviders({ stateDir: dir, file, env: {} });
      return await startModelProxy({
        socketPath,
        agent: "containment-probe",
        approval: () => ({ provider: "mock", model: "mock-1", maxOutputTokens: 64, dailyTokens }),
        providers,
        ledger: createMemoryLedger(),
        audit: () => undefined,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/** Replaced at bundle time by the release build with the bundled probe; absent from a checkout, which builds it. */
declare const IRONCLAW_PROBE_RUNTIME: string | undefined;

/** The build's commit, or undefined for a checkout (tsc's build, or the dev bundle's "checkout"), where git says. */
function releaseCommit(): string | undefined {
  const { commit } = buildInfo();
  return commit === "checkout" ? undefined : commit;
}

/** The self-test with the real egress broker and model proxy, nothing approved beyond the probe's model. */
export function selftest(): Promise<ContainmentReport> {
  const commit = releaseCommit();
  return runContainmentSelftest({
    ...(typeof IRONCLAW_PROBE_RUNTIME === "string" ? { probeSource: IRONCLAW_PROBE_RUNTIME } : {}),
    ...(commit === undefined ? {} : { commit }),
    modelProxy: realModelProxy,
    egressBroker: {
      start: (socketPath) =>
        startEgressBroker({
          socketPath,
          agent: "containment-probe",
          allowlist: () => [],
          audit: () => undefined,
        }),
    },
  });
}

/** One line per invariant (and why, when it did not hold), what the host does not enforce, the verdict. */
export function renderContainment(report: ContainmentReport, seconds: string): string {
  const lines: string[] = [];
  const width = Math.max(...report.invariants.map((invariant) => invariant.id.length));
  for (const invariant of report.invariants) {
    const mark = invariant.held ? "✓" : "✗";
    lines.push(
      `${mark} ${invariant.id.padEnd(width)}  expected ${invariant.expected.padEnd(7)}  observed ${invariant.observed}`,
    );
    if (!invariant.held) lines.push(`    ${invariant.detail}`);
  }
  // A limit the host does not enforce is said with its reason, so the line is something to act on.
  const unenforced = Object.entries(report.limits).flatMap(([name, status]) =>
    typeof status === "object" && status !== null && "enforced" in status && !status.enforced
      ? [
          `limit ${name} is not enforced on this host: ${status.note?.replace(/^not enforced: /, "") ?? `asked for ${status.requested}, the sandbox sees ${status.observed ?? "no limit"}`}`,
        ]
      : [],
  );
  const egress = report.invariants.find((invariant) => invariant.id === "egress-allowlist");
  if (egress?.detail.startsWith("placeholder broker") === true)
    lines.push("egress-allowlist was checked against the placeholder broker, not the real one");
  lines.push(...unenforced);
  lines.push(
    `${report.verdict} (${report.bwrap}, node ${report.node}, kernel ${report.kernel}, ${seconds}s)`,
  );
  return `${lines.join("\n")}\n`;
}
