import { realpath } from "node:fs/promises";
import { resolve } from "node:path";
import { agentNamed, type Registry } from "../registry.js";
import { type ChangeKind, EXACT_VERSION, PACKAGE_NAME, type PayloadOf } from "./kinds.js";
import { type PackageChecker, type PackageVerdict, packageKey, type VerifierContext } from "./verifiers.js";

/**
 * The I/O the verifier chain needs, done at the gateway's edge before it runs, so the chain stays pure:
 * the real path of each mount source, and the package store's verdict on each package.
 */
export async function mountFacts(
  root: string | null,
  kind: ChangeKind,
  payload: PayloadOf<ChangeKind>,
): Promise<VerifierContext["mounts"]> {
  const sources = new Map<string, string | null>();
  if (kind !== "mounts" || root === null) return { root: null, sources };
  const realRoot = await realpath(root).catch(() => null);
  for (const { source } of (payload as PayloadOf<"mounts">).mounts) {
    const real = realRoot === null ? null : await realpath(resolve(realRoot, source)).catch(() => null);
    sources.set(source, real);
  }
  return { root: realRoot, sources };
}

/**
 * The package store fetches and verifies each well-formed package (a malformed name or version is
 * package_form's to refuse, and is never sent to a registry); its verdicts go to the chain.
 */
export async function packageVerdicts(
  checker: PackageChecker | null,
  registry: Registry,
  kind: ChangeKind,
  payload: PayloadOf<ChangeKind>,
): Promise<VerifierContext["packages"]> {
  const verdicts = new Map<string, PackageVerdict>();
  // A change for an agent that does not exist is agent_reference's to refuse: nothing is fetched for it.
  if (kind !== "packages" || checker === null) return verdicts;
  if (agentNamed(registry, payload.agent) === undefined) return verdicts;
  const requests = (payload as PayloadOf<"packages">).packages.filter(
    (p) => PACKAGE_NAME.test(p.name) && EXACT_VERSION.test(p.version),
  );
  // A few at a time: a change may name 64 packages, each a download.
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let request = requests[next++]; request !== undefined; request = requests[next++]) {
      let verdict: PackageVerdict;
      try {
        verdict = await checker.check(request);
      } catch (error) {
        verdict = {
          ok: false,
          code: "IC_PACKAGE_CHECK_FAILED",
          reason: `checking it failed: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
      verdicts.set(packageKey(request), verdict);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return verdicts;
}
