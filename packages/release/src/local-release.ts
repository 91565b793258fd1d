import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  githubBuildProvenance,
  githubWorkflowIdentity,
  inTotoStatement,
  LocalSigstore,
  SLSA_PROVENANCE_V1,
} from "@ironclaw/sigstore-local";
import { sha256File } from "@ironclaw/verify/checksums";
import { type BuildResult, buildRelease, writeChecksums } from "./build.js";
import {
  attestationsName,
  CHECKSUMS_BUNDLE_NAME,
  OFFICIAL_REPOSITORY,
  RELEASE_WORKFLOW_PATH,
} from "./config.js";
import type { SourceInfo } from "./source-info.js";

export interface LocalReleaseOptions {
  readonly source: SourceInfo;
  readonly outDir: string;
  readonly repository?: string;
  /** An instance the caller runs (tests sign variants with it); a throwaway one when absent. */
  readonly sigstore?: LocalSigstore;
  readonly targets?: readonly string[];
  /** A `npm run containment -- --out FILE` report to ship, attested and listed like every asset. */
  readonly containmentReport?: string;
  readonly log?: (message: string) => void;
}

export interface LocalReleaseResult extends BuildResult {
  readonly repository: string;
  readonly identity: string;
  readonly assets: readonly string[];
}

/**
 * Builds a release and signs it with a throwaway local Sigstore exactly as the release workflow signs
 * with the real one: a build-provenance attestation naming every archive, executable and installer (SLSA
 * v1, as actions/attest writes it for several subjects), SHA256SUMS over every asset, and a keyless signature over SHA256SUMS
 * whose certificate carries the workflow identity and its GitHub claims. The instance's
 * trusted_root.json is written beside the assets, because nothing else would trust it.
 */
export async function releaseLocally(options: LocalReleaseOptions): Promise<LocalReleaseResult> {
  const repository = options.repository ?? OFFICIAL_REPOSITORY;
  // Checked before anything is built: a release never ships a breached sandbox.
  const report =
    options.containmentReport === undefined
      ? undefined
      : await readContainmentReport(options.containmentReport);
  const built = await buildRelease(options);
  const { source, outDir } = options;
  const identity = githubWorkflowIdentity({
    repository,
    ref: `refs/tags/v${source.version}`,
    sha: source.commit,
    workflowPath: RELEASE_WORKFLOW_PATH,
  });
  const sigstore = options.sigstore ?? (await LocalSigstore.start());
  try {
    const reports = report === undefined ? [] : [await shipContainmentReport(report, outDir, source.version)];
    const provenance = githubBuildProvenance(identity);
    const subjects = [
      ...(await Promise.all(
        [...built.archives, ...built.installers, ...reports].map(async (name) => ({
          name,
          sha256: (await sha256File(join(outDir, name))).sha256,
        })),
      )),
      ...built.executables.map((executable) => ({ name: executable.name, sha256: executable.sha256 })),
    ];
    // One statement naming every archive, installer and executable, as actions/attest writes for several subjects.
    const statement = inTotoStatement(subjects, SLSA_PROVENANCE_V1, provenance);
    const bundle = await sigstore.signDsse(
      Buffer.from(JSON.stringify(statement)),
      "application/vnd.in-toto+json",
      identity,
    );
    const lines = [JSON.stringify(bundle)];
    const attestations = attestationsName(source.version);
    await writeFile(join(outDir, attestations), `${lines.join("\n")}\n`);
    const assets = [...built.archives, ...built.installers, ...reports, attestations];
    const checksums = await writeChecksums(outDir, assets);
    const signature = await sigstore.signMessage(Buffer.from(checksums), identity);
    await writeFile(join(outDir, CHECKSUMS_BUNDLE_NAME), `${JSON.stringify(signature)}\n`);
    await writeFile(join(outDir, "trusted_root.json"), `${JSON.stringify(sigstore.trustedRoot, null, 2)}\n`);
    options.log?.(`signed with a local Sigstore instance as ${identity.subject}`);
    return {
      ...built,
      repository,
      identity: identity.subject,
      assets: [...assets, "SHA256SUMS", CHECKSUMS_BUNDLE_NAME],
    };
  } finally {
    if (options.sigstore === undefined) await sigstore.stop();
  }
}

/** The report's text, if it is a containment report whose verdict is "contained". */
export async function readContainmentReport(path: string): Promise<string> {
  const text = await readFile(path, "utf8");
  let report: { schema?: unknown; verdict?: unknown } = {};
  try {
    report = JSON.parse(text) as typeof report;
  } catch {
    // Judged below like any other document that is not a report.
  }
  if (report.schema !== "https://ironclaw.dev/schemas/containment/v1" || report.verdict !== "contained") {
    throw new Error(
      `${path}: expected a containment report with verdict "contained", found ${JSON.stringify(report.verdict ?? null)}; a release never ships a breached sandbox`,
    );
  }
  return text;
}

/** Writes the report under its release name. */
async function shipContainmentReport(text: string, outDir: string, version: string): Promise<string> {
  const name = `ironclaw_${version}_containment.json`;
  await writeFile(join(outDir, name), text);
  return name;
}
