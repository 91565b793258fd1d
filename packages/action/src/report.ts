import type { ReleaseCheck, ReleasePolicy, ReleaseVerification } from "@ironclaw/verify/release";

/**
 * Pure mappings from a ReleaseVerification to what the Action shows: outputs, log lines, the job
 * summary and failure annotations. run() only hands these to @actions/core.
 */

/** Every output action.yml declares; a test holds the two lists equal. */
export const OUTPUT_NAMES = ["verified", "version", "tag", "commit", "run-url"] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

/**
 * GitHub shows at most 10 error annotations per step and setFailed adds one, so at most 9 are for
 * checks; the rest would be dropped without a word.
 */
export const MAX_CHECK_ANNOTATIONS = 9;

export interface Annotation {
  readonly title: string;
  readonly message: string;
}

/** A cell of core.summary.addTable; `data` is HTML, so everything in it is escaped here. */
export interface SummaryCell {
  readonly data: string;
  readonly header?: boolean;
}

export interface SummaryContent {
  /** HTML, escaped (addHeading escapes nothing). */
  readonly heading: string;
  /** HTML paragraphs, escaped. */
  readonly paragraphs: readonly string[];
  /** The header row, then one row per file per check. */
  readonly table: readonly (readonly SummaryCell[])[];
}

const verified = (result: ReleaseVerification) => result.ok && result.signer !== undefined;

/**
 * The release's tag, version, commit and run only when every check of every file passed: a later
 * step that reads `commit` from a release that failed must find nothing to build on.
 */
export function actionOutputs(result: ReleaseVerification): Partial<Record<OutputName, string>> {
  if (!verified(result) || result.signer === undefined) return { verified: "false" };
  const { tag, commit, runInvocationUri } = result.signer;
  return {
    verified: "true",
    version: tag.slice(1),
    tag,
    commit,
    ...(runInvocationUri === undefined ? {} : { "run-url": runInvocationUri }),
  };
}

export function describeCheck(check: ReleaseCheck): string {
  return check.ok || check.code === undefined ? check.detail : `${check.code}: ${check.detail}`;
}

/** The release as its signature says, when the signature verified. */
function releaseLine(result: ReleaseVerification): string | undefined {
  if (result.signer === undefined) return undefined;
  const { tag, repository, commit, runInvocationUri, workflow } = result.signer;
  const run = runInvocationUri === undefined ? "" : `, run ${runInvocationUri}`;
  return `${tag} of ${repository}, commit ${commit}, signed by ${workflow}${run}`;
}

export function verdict(result: ReleaseVerification): string {
  const count = `${result.artifacts.length} file(s)`;
  if (verified(result) && result.signer !== undefined) {
    return `Verified: ${count} of ${result.signer.repository} ${result.signer.tag} (commit ${result.signer.commit})`;
  }
  if (result.artifacts.length === 0) return "NOT verified: there was no file to verify";
  const failed = result.artifacts.filter((artifact) => !artifact.ok).length;
  return `NOT verified: ${failed} of ${count} failed a check`;
}

/**
 * Workflow commands are read from the start of any log line (after leading blanks), and file names
 * come from SHA256SUMS before anything vouches for it; so each line starts with a word of ours, and
 * holds no control character that could start a new line.
 */
export function logLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
}

/** The step log: who signed, one line per check per file, the verdict. */
export function logLines(result: ReleaseVerification): string[] {
  const lines: string[] = [];
  const release = releaseLine(result);
  if (release !== undefined) lines.push(`Release ${release}`);
  for (const artifact of result.artifacts) {
    lines.push(`File ${artifact.name}`);
    for (const check of artifact.checks) {
      lines.push(`  ${check.ok ? "✓" : "✗"} ${check.check.padEnd(10)} ${describeCheck(check)}`);
    }
  }
  lines.push(verdict(result));
  return lines.map(logLine);
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** What the release had to satisfy, so a reader of the summary sees which trust was applied. */
export function expectationLine(policy: ReleasePolicy, trustedRoot: string): string {
  const identity = `https://github.com/${policy.signerWorkflow}@refs/tags/${policy.tag ?? "vX.Y.Z"}`;
  return `Expected SHA256SUMS signed by ${identity} (issuer ${policy.issuer}, repository ${policy.repository}), against ${trustedRoot}`;
}

/**
 * The job summary: a heading with the verdict, what was expected, who signed, and a table with every
 * check of every file.
 */
export function summaryContent(
  result: ReleaseVerification,
  context: { readonly policy: ReleasePolicy; readonly trustedRoot: string },
): SummaryContent {
  const release = releaseLine(result);
  const header = ["File", "Check", "Result", "Detail"].map((data) => ({ data, header: true }));
  const rows = result.artifacts.flatMap((artifact) =>
    artifact.checks.map((check) => [
      { data: `<code>${escapeHtml(artifact.name)}</code>` },
      { data: escapeHtml(check.check) },
      { data: check.ok ? "✓" : "✗" },
      { data: escapeHtml(describeCheck(check)) },
    ]),
  );
  return {
    heading: verified(result) ? "✓ Release verified" : "✗ Release NOT verified",
    paragraphs: [
      escapeHtml(expectationLine(context.policy, context.trustedRoot)),
      ...(release === undefined ? [] : [escapeHtml(`Release ${release}`)]),
      escapeHtml(verdict(result)),
    ],
    table: [header, ...rows],
  };
}

/** The summary when verification could not start: what went wrong and what to do is in `message`. */
export function errorSummaryContent(message: string): SummaryContent {
  return {
    heading: "✗ Release NOT verified",
    paragraphs: [escapeHtml(message)],
    table: [],
  };
}

function namesOf(names: readonly string[]): string {
  const shown = names.slice(0, 3).join(", ");
  return names.length > 3 ? `${shown} and ${names.length - 3} more` : shown;
}

/**
 * One error annotation per failed check, titled with the file and the check. A failure that is the
 * same for several files (a bad signature fails every file alike) is one annotation naming them all,
 * and past `limit` a last annotation says how many more the job summary holds.
 */
export function failureAnnotations(result: ReleaseVerification, limit = MAX_CHECK_ANNOTATIONS): Annotation[] {
  const groups = new Map<string, { check: ReleaseCheck; names: string[] }>();
  for (const artifact of result.artifacts) {
    for (const check of artifact.checks) {
      if (check.ok) continue;
      const key = JSON.stringify([check.check, check.code ?? "", check.detail]);
      const group = groups.get(key);
      if (group === undefined) groups.set(key, { check, names: [artifact.name] });
      else group.names.push(artifact.name);
    }
  }
  const annotations = [...groups.values()].map(({ check, names }) => ({
    title: `${namesOf(names)}: ${check.check} check failed`,
    message: describeCheck(check),
  }));
  if (annotations.length <= limit) return annotations;
  const kept = annotations.slice(0, Math.max(0, limit - 1));
  const more = annotations.length - kept.length;
  return [
    ...kept,
    {
      title: `${more} more failed check(s)`,
      message: `a step shows only ${limit + 1} error annotations; the job summary lists every check of every file`,
    },
  ];
}
