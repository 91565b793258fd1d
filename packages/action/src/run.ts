import { resolve } from "node:path";
import * as core from "@actions/core";
import { isVerifyError } from "@ironclaw/verify/errors";
import {
  hashArtifacts,
  listedNames,
  type ReleasePolicy,
  type ReleaseVerification,
  readReleaseFiles,
  releasePolicy,
  verifyRelease,
} from "@ironclaw/verify/release";
import { type ActionInputs, InputError, readInputs } from "./inputs.js";
import { loadTrustedRoot } from "./release-files.js";
import {
  actionOutputs,
  errorSummaryContent,
  failureAnnotations,
  logLines,
  OUTPUT_NAMES,
  type SummaryContent,
  summaryContent,
  verdict,
} from "./report.js";

export const PUBLIC_GOOD_ROOT = "the Sigstore public-good root embedded in the action";

export interface DirectoryVerification {
  readonly result: ReleaseVerification;
  readonly policy: ReleasePolicy;
  /** Which trusted root the signatures were checked against, in words. */
  readonly trustedRoot: string;
}

/** Reads the release directory the inputs name and runs the library's verification over it. */
export async function verifyDirectory(inputs: ActionInputs, cwd: string): Promise<DirectoryVerification> {
  const policy = releasePolicy({
    repository: inputs.repository,
    ...(inputs.tag === undefined ? {} : { tag: inputs.tag }),
    ...(inputs.signerWorkflow === undefined ? {} : { signerWorkflow: inputs.signerWorkflow }),
  });
  const trustedRoot = await loadTrustedRoot(inputs.trustedRoot, cwd);
  const dir = resolve(cwd, inputs.directory);
  const files = await readReleaseFiles(dir);
  // Hashing runs on worker threads while verifyRelease checks the signature and the attestations.
  // Everything that can throw on bad input (the trusted root, SHA256SUMS) was read above, so this
  // promise is always awaited.
  const artifacts = hashArtifacts(dir, inputs.artifacts ?? listedNames(files.checksums));
  const result = await verifyRelease({
    checksums: files.checksums,
    artifacts,
    policy,
    mode: "full",
    trustedRoot,
    ...(files.signatureBundle === undefined ? {} : { signatureBundle: files.signatureBundle }),
    ...(files.attestations === undefined ? {} : { attestations: files.attestations }),
  });
  return {
    result,
    policy,
    trustedRoot: inputs.trustedRoot === undefined ? PUBLIC_GOOD_ROOT : resolve(cwd, inputs.trustedRoot),
  };
}

/** What went wrong before any check could run, with its stable code when it has one. */
export function describeError(error: unknown): string {
  if (error instanceof InputError) return error.message;
  if (isVerifyError(error)) return `${error.code}: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  return `unexpected error: ${message}. This is a bug in the action; please report it with this step's log`;
}

/**
 * Appends to the job summary. A runner always provides one; where none can be written the verdict
 * still stands (exit status and outputs), so this warns rather than fails.
 */
async function writeSummary(content: SummaryContent): Promise<void> {
  const summary = core.summary.emptyBuffer().addHeading(content.heading, 2);
  for (const paragraph of content.paragraphs) summary.addRaw(`<p>${paragraph}</p>`, true);
  if (content.table.length > 0)
    summary.addTable(content.table.map((row) => row.map((cell) => ({ ...cell }))));
  try {
    await summary.write();
  } catch (error) {
    summary.emptyBuffer();
    core.warning(
      `the job summary was not written (${error instanceof Error ? error.message : String(error)}); the step's log, outputs and status still hold the verdict`,
      { title: "No job summary" },
    );
  }
}

function setOutputs(outputs: Partial<Record<string, string>>): void {
  for (const name of OUTPUT_NAMES) {
    const value = outputs[name];
    if (value !== undefined) core.setOutput(name, value);
  }
}

/**
 * The Action: reads the inputs, verifies the release, then logs every check, writes the job summary,
 * annotates each failure, sets the outputs and fails the step unless every check of every file passed.
 * It never throws: anything unexpected fails the step with its message.
 */
export async function run(): Promise<void> {
  try {
    const inputs = readInputs((name) => core.getInput(name));
    const { result, policy, trustedRoot } = await verifyDirectory(inputs, process.cwd());
    for (const line of logLines(result)) core.info(line);
    await writeSummary(summaryContent(result, { policy, trustedRoot }));
    for (const annotation of failureAnnotations(result)) {
      core.error(annotation.message, { title: annotation.title });
    }
    setOutputs(actionOutputs(result));
    if (!result.ok) core.setFailed(`${verdict(result)}; the job summary lists every check of every file`);
  } catch (error) {
    const message = describeError(error);
    try {
      setOutputs({ verified: "false" });
    } catch {
      // The outputs file itself may be what failed; setFailed below still fails the step.
    }
    await writeSummary(errorSummaryContent(message));
    core.setFailed(message);
  }
}
