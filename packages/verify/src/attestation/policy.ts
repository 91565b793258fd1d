import { VerifyError, type VerifyErrorCode } from "../errors.js";
import { GITHUB_ACTIONS_ISSUER } from "../release/config.js";
import type { FulcioExtensions } from "../sigstore/fulcio-extensions.js";
import {
  describeMatcher,
  exactly,
  matches,
  matchingRegexp,
  type StringMatcher,
} from "../sigstore/identity-policy.js";

export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
const GITHUB = "github.com";

/** `gh attestation verify`'s policy flags, by their meaning. */
export interface AttestationPolicyOptions {
  readonly owner?: string;
  readonly repo?: string;
  readonly signerRepo?: string;
  readonly signerWorkflow?: string;
  readonly signerDigest?: string;
  readonly certIdentity?: string;
  readonly certIdentityRegex?: string;
  readonly certOidcIssuer?: string;
  readonly denySelfHostedRunners?: boolean;
  readonly sourceRef?: string;
  readonly sourceDigest?: string;
  readonly predicateType?: string;
}

/** Who may have signed: the workflow in the certificate's SAN, matched on its parts, never as a substring. */
export type SignerRule =
  | { readonly kind: "owner"; readonly host: string; readonly owner: string }
  | { readonly kind: "repository"; readonly host: string; readonly repository: string }
  | { readonly kind: "workflow"; readonly host: string; readonly repository: string; readonly path: string }
  | { readonly kind: "identity"; readonly matcher: StringMatcher };

export interface AttestationPolicy {
  readonly owner: string;
  readonly repository?: string;
  readonly signer: SignerRule;
  readonly signerDigest?: string;
  readonly issuer: string;
  readonly denySelfHostedRunners: boolean;
  readonly sourceRef?: string;
  readonly sourceDigest?: string;
  readonly predicateType: string;
}

const NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]+$/;

/** Turns the flags into a policy, refusing combinations that would be ambiguous. */
export function buildAttestationPolicy(options: AttestationPolicyOptions): AttestationPolicy {
  const repository = options.repo === undefined ? undefined : parseRepository(options.repo, "--repo");
  const owner = repository?.split("/")[0] ?? options.owner;
  if (owner === undefined)
    throw invalid("give --owner or --repo: the repository the artifact must come from");
  if (!NAME.test(owner)) throw invalid(`--owner ${JSON.stringify(owner)} is not a GitHub owner name`);
  if (options.owner !== undefined && options.owner.toLowerCase() !== owner.toLowerCase()) {
    throw invalid(`--owner ${options.owner} contradicts --repo ${options.repo}`);
  }
  const signerForms = [
    options.signerRepo,
    options.signerWorkflow,
    options.certIdentity,
    options.certIdentityRegex,
  ];
  if (signerForms.filter((form) => form !== undefined).length > 1) {
    throw invalid(
      "--signer-repo, --signer-workflow, --cert-identity and --cert-identity-regex exclude each other",
    );
  }
  return {
    owner,
    ...(repository === undefined ? {} : { repository }),
    signer: signerRule(options, owner, repository),
    ...(options.signerDigest === undefined ? {} : { signerDigest: options.signerDigest }),
    issuer: options.certOidcIssuer ?? GITHUB_ACTIONS_ISSUER,
    denySelfHostedRunners: options.denySelfHostedRunners === true,
    ...(options.sourceRef === undefined ? {} : { sourceRef: options.sourceRef }),
    ...(options.sourceDigest === undefined ? {} : { sourceDigest: options.sourceDigest }),
    predicateType: options.predicateType ?? SLSA_PROVENANCE_V1,
  };
}

function signerRule(
  options: AttestationPolicyOptions,
  owner: string,
  repository: string | undefined,
): SignerRule {
  if (options.certIdentity !== undefined)
    return { kind: "identity", matcher: exactly(options.certIdentity, "certificate identity") };
  if (options.certIdentityRegex !== undefined) {
    return { kind: "identity", matcher: matchingRegexp(options.certIdentityRegex, "certificate identity") };
  }
  if (options.signerRepo !== undefined) {
    return {
      kind: "repository",
      host: GITHUB,
      repository: parseRepository(options.signerRepo, "--signer-repo"),
    };
  }
  if (options.signerWorkflow !== undefined) return parseWorkflow(options.signerWorkflow);
  // By default the signing workflow lives in the source repository (or under the owner).
  return repository === undefined
    ? { kind: "owner", host: GITHUB, owner }
    : { kind: "repository", host: GITHUB, repository };
}

function parseRepository(value: string, flag: string): string {
  const parts = value.split("/");
  if (parts.length !== 2 || !parts.every((part) => NAME.test(part))) {
    throw invalid(`${flag} ${JSON.stringify(value)} is not OWNER/REPOSITORY`);
  }
  return value;
}

/** `[host/]owner/repo/path/to/workflow.yml`, as gh takes it. */
function parseWorkflow(value: string): SignerRule {
  const parts = value.replace(/^https:\/\//, "").split("/");
  const host = parts[0]?.includes(".") === true ? (parts.shift() ?? GITHUB) : GITHUB;
  const [owner, repo, ...path] = parts;
  if (owner === undefined || repo === undefined || path.length === 0 || value.includes("@")) {
    throw invalid(
      `--signer-workflow ${JSON.stringify(value)} is not [HOST/]OWNER/REPOSITORY/PATH/TO/WORKFLOW.yml (without @ref)`,
    );
  }
  return {
    kind: "workflow",
    host,
    repository: parseRepository(`${owner}/${repo}`, "--signer-workflow"),
    path: path.join("/"),
  };
}

export interface CertificateFacts {
  readonly subjectAlternativeName: string;
  readonly extensions: FulcioExtensions;
}

/** Throws the first rule the certificate breaks, saying what was expected and what it holds. */
export function checkAttestationCertificate(policy: AttestationPolicy, certificate: CertificateFacts): void {
  const { extensions: ext, subjectAlternativeName: san } = certificate;
  if (ext.issuer !== policy.issuer) {
    fail("IC_POLICY_ISSUER_MISMATCH", "OIDC issuer", policy.issuer, ext.issuer);
  }
  const ownerUri = `https://${GITHUB}/${policy.owner}`;
  if (!sameFold(ext.sourceRepositoryOwnerUri, ownerUri)) {
    fail("IC_POLICY_OWNER_MISMATCH", "source repository owner", ownerUri, ext.sourceRepositoryOwnerUri);
  }
  if (policy.repository !== undefined) {
    const repositoryUri = `https://${GITHUB}/${policy.repository}`;
    if (!sameFold(ext.sourceRepositoryUri, repositoryUri)) {
      fail("IC_POLICY_REPOSITORY_MISMATCH", "source repository", repositoryUri, ext.sourceRepositoryUri);
    }
  }
  if (!signerMatches(policy.signer, san)) {
    const hint =
      policy.signer.kind === "repository" || policy.signer.kind === "owner"
        ? "; a reusable workflow from another repository is accepted only when --signer-repo or --signer-workflow names it"
        : "";
    throw new VerifyError(
      "IC_POLICY_SIGNER_MISMATCH",
      `the signing workflow is ${JSON.stringify(san)}; expected ${describeSigner(policy.signer)}${hint}`,
    );
  }
  if (policy.signerDigest !== undefined && ext.buildSignerDigest !== policy.signerDigest) {
    fail(
      "IC_POLICY_SIGNER_DIGEST_MISMATCH",
      "signing workflow digest",
      policy.signerDigest,
      ext.buildSignerDigest,
    );
  }
  if (policy.denySelfHostedRunners && ext.runnerEnvironment !== "github-hosted") {
    fail(
      "IC_POLICY_SELF_HOSTED_RUNNER",
      "runner environment (--deny-self-hosted-runners)",
      "github-hosted",
      ext.runnerEnvironment,
    );
  }
  if (policy.sourceRef !== undefined && ext.sourceRepositoryRef !== policy.sourceRef) {
    fail("IC_POLICY_SOURCE_REF_MISMATCH", "source ref", policy.sourceRef, ext.sourceRepositoryRef);
  }
  if (policy.sourceDigest !== undefined && ext.sourceRepositoryDigest !== policy.sourceDigest) {
    fail(
      "IC_POLICY_SOURCE_DIGEST_MISMATCH",
      "source commit",
      policy.sourceDigest,
      ext.sourceRepositoryDigest,
    );
  }
}

/** GitHub owner and repository names are case-insensitive; everything else is compared exactly. */
export function signerMatches(rule: SignerRule, san: string): boolean {
  if (rule.kind === "identity") return matches(rule.matcher, san);
  const prefix = `https://${rule.host}/`;
  if (!san.startsWith(prefix)) return false;
  const [owner = "", repo = "", ...rest] = san.slice(prefix.length).split("/");
  const tail = rest.join("/");
  switch (rule.kind) {
    case "owner":
      return sameFold(owner, rule.owner) && repo.length > 0 && tail.length > 0;
    case "repository":
      return sameFold(`${owner}/${repo}`, rule.repository) && tail.length > 0;
    case "workflow":
      return (
        sameFold(`${owner}/${repo}`, rule.repository) &&
        tail.startsWith(`${rule.path}@`) &&
        tail.length > rule.path.length + 1
      );
  }
}

function describeSigner(rule: SignerRule): string {
  switch (rule.kind) {
    case "identity":
      return describeMatcher(rule.matcher);
    case "owner":
      return `a workflow of a repository of https://${rule.host}/${rule.owner}`;
    case "repository":
      return `a workflow of https://${rule.host}/${rule.repository}`;
    case "workflow":
      return `https://${rule.host}/${rule.repository}/${rule.path}@<ref>`;
  }
}

function sameFold(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

function fail(code: VerifyErrorCode, what: string, expected: string, found: string | undefined): never {
  throw new VerifyError(
    code,
    `the certificate's ${what} is ${JSON.stringify(found ?? null)}; expected ${JSON.stringify(expected)}`,
  );
}

function invalid(message: string): VerifyError {
  return new VerifyError("IC_POLICY_INVALID", message);
}
