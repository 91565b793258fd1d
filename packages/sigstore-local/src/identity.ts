import { createHash } from "node:crypto";

/** Who signs: `subject` becomes the certificate SAN, `issuer` the `iss` claim (Fulcio issuer extensions). */
export interface SigningIdentity {
  /** The certificate's subject alternative name (a URI, or an email address). */
  subject: string;
  /** The OIDC issuer, e.g. `https://token.actions.githubusercontent.com`. */
  issuer: string;
  /** Extra identity-token claims; GitHub Actions claims become Fulcio certificate extensions. */
  claims?: Record<string, string>;
}

export interface GitHubWorkflowIdentityOptions {
  /** `owner/name`. */
  repository: string;
  /** Default `.github/workflows/release.yml`. */
  workflowPath?: string;
  /** The workflow's `name:`; default the workflow path, as GitHub does for a workflow without one. */
  workflowName?: string;
  /** E.g. `refs/tags/v1.2.3`. */
  ref: string;
  /** The commit, 40 hex digits. */
  sha: string;
  /** Default `github-hosted`. */
  runnerEnvironment?: string;
  /** Default `push`. */
  eventName?: string;
  /** Default `1`. */
  runId?: string;
  /** Default `1`. */
  runAttempt?: string;
  /** Default a stable number derived from the repository name. */
  repositoryId?: string;
  /** Default a stable number derived from the owner name. */
  ownerId?: string;
  /** Default `public`. */
  visibility?: string;
  /** For reusable workflows: `owner/repo/.github/workflows/x.yml@ref`; default the workflow itself. */
  jobWorkflowRef?: string;
  /** The reusable workflow's commit; default `sha`. */
  jobWorkflowSha?: string;
}

export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";

const REPOSITORY = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;
const SHA1_HEX = /^[0-9a-f]{40}$/;
const WORKFLOW_REF = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+\/\.github\/workflows\/[^@\s]+\.ya?ml@\S+$/;

/**
 * The identity a GitHub Actions workflow run signs with, with the claims of GitHub's OIDC token that
 * Fulcio turns into certificate extensions. The subject is `https://github.com/<job_workflow_ref>`, the
 * SAN Fulcio gives GitHub workflows.
 */
export function githubWorkflowIdentity(o: GitHubWorkflowIdentityOptions): SigningIdentity {
  if (!REPOSITORY.test(o.repository)) {
    throw new TypeError(
      `githubWorkflowIdentity: repository must be "owner/name", got ${JSON.stringify(o.repository)}`,
    );
  }
  if (!o.ref.startsWith("refs/")) {
    throw new TypeError(
      `githubWorkflowIdentity: ref must be a full ref (refs/…), got ${JSON.stringify(o.ref)}`,
    );
  }
  for (const [name, value] of [
    ["sha", o.sha],
    ["jobWorkflowSha", o.jobWorkflowSha],
  ] as const) {
    if (value !== undefined && !SHA1_HEX.test(value)) {
      throw new TypeError(
        `githubWorkflowIdentity: ${name} must be 40 lowercase hex digits, got ${JSON.stringify(value)}`,
      );
    }
  }
  const workflowPath = o.workflowPath ?? ".github/workflows/release.yml";
  const workflowRef = `${o.repository}/${workflowPath}@${o.ref}`;
  if (!WORKFLOW_REF.test(workflowRef)) {
    throw new TypeError(
      `githubWorkflowIdentity: workflowPath must be .github/workflows/<file>.yml, got ${JSON.stringify(workflowPath)}`,
    );
  }
  const jobWorkflowRef = o.jobWorkflowRef ?? workflowRef;
  if (!WORKFLOW_REF.test(jobWorkflowRef)) {
    throw new TypeError(
      `githubWorkflowIdentity: jobWorkflowRef must be owner/repo/.github/workflows/<file>.yml@<ref>, got ${JSON.stringify(jobWorkflowRef)}`,
    );
  }
  const [owner] = o.repository.split("/");
  const claims: Record<string, string> = {
    event_name: o.eventName ?? "push",
    sha: o.sha,
    workflow: o.workflowName ?? workflowPath,
    repository: o.repository,
    ref: o.ref,
    ref_type: o.ref.startsWith("refs/tags/") ? "tag" : "branch",
    job_workflow_ref: jobWorkflowRef,
    job_workflow_sha: o.jobWorkflowSha ?? o.sha,
    runner_environment: o.runnerEnvironment ?? "github-hosted",
    repository_id: o.repositoryId ?? stableId(o.repository),
    repository_owner: owner ?? o.repository,
    repository_owner_id: o.ownerId ?? stableId(owner ?? o.repository),
    workflow_ref: workflowRef,
    workflow_sha: o.sha,
    repository_visibility: o.visibility ?? "public",
    run_id: o.runId ?? "1",
    run_attempt: o.runAttempt ?? "1",
  };
  return { subject: `https://github.com/${jobWorkflowRef}`, issuer: GITHUB_ACTIONS_ISSUER, claims };
}

// Deterministic, so two runs of a test see the same ids; distinct names get distinct ids.
function stableId(name: string): string {
  const n = createHash("sha256").update(name.toLowerCase()).digest().readUInt32BE(0);
  return String((n % 900_000_000) + 100_000_000);
}
