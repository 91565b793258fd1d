import { VerifyError } from "../errors.js";
import type { FulcioExtensions } from "../sigstore/fulcio-extensions.js";

/** GitHub's SLSA v1 build types: the current one, and the one actions/attest wrote before it. */
export const GITHUB_WORKFLOW_BUILD_TYPES = [
  "https://actions.github.io/buildtypes/workflow/v1",
  "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
] as const;

const SLSA_FRAMEWORK_BUILD_TYPE = GITHUB_WORKFLOW_BUILD_TYPES[1];
/** The builder of the slsa-framework build type: GitHub's runner, followed by its environment. */
const GITHUB_RUNNER_BUILDER = "https://github.com/actions/runner/";

interface GitHubProvenance {
  buildDefinition?: {
    buildType?: unknown;
    externalParameters?: { workflow?: { ref?: unknown; repository?: unknown; path?: unknown } };
    internalParameters?: {
      github?: { event_name?: unknown; runner_environment?: unknown; repository_id?: unknown };
    };
    resolvedDependencies?: Array<{ uri?: unknown; digest?: { gitCommit?: unknown } }>;
  };
  runDetails?: { builder?: { id?: unknown }; metadata?: { invocationId?: unknown } };
}

export interface ProvenanceCheck {
  /** The build type when it is one of GitHub's, so the predicate was compared with the certificate. */
  readonly crossChecked: boolean;
  readonly buildType: string | undefined;
}

/**
 * The predicate is written by the workflow; the certificate is attested by Fulcio. Where a GitHub
 * provenance predicate names the repository, workflow, ref, commit, builder or run, it must say what
 * the certificate says, or the statement is refused. Other build types are reported as not cross-checked.
 */
export function checkProvenanceAgainstCertificate(
  predicate: unknown,
  ext: FulcioExtensions,
): ProvenanceCheck {
  const provenance = (
    typeof predicate === "object" && predicate !== null ? predicate : {}
  ) as GitHubProvenance;
  const buildType =
    typeof provenance.buildDefinition?.buildType === "string"
      ? provenance.buildDefinition.buildType
      : undefined;
  if (buildType === undefined || !(GITHUB_WORKFLOW_BUILD_TYPES as readonly string[]).includes(buildType)) {
    return { crossChecked: false, buildType };
  }
  const definition = provenance.buildDefinition ?? {};
  const workflow = definition.externalParameters?.workflow ?? {};
  agree(
    "buildDefinition.externalParameters.workflow.repository",
    workflow.repository,
    ext.sourceRepositoryUri,
    "source repository",
    true,
  );
  agree(
    "buildDefinition.externalParameters.workflow.ref",
    workflow.ref,
    ext.sourceRepositoryRef,
    "source ref",
  );
  const configPath = workflowPathOf(ext.buildConfigUri, ext.sourceRepositoryUri);
  agree(
    "buildDefinition.externalParameters.workflow.path",
    workflow.path,
    configPath,
    "build config (workflow) path",
  );
  const dependencies = definition.resolvedDependencies ?? [];
  if (dependencies.length === 0)
    mismatch("buildDefinition.resolvedDependencies", "nothing", "the source commit");
  for (const [index, dependency] of dependencies.entries()) {
    agree(
      `buildDefinition.resolvedDependencies[${index}].digest.gitCommit`,
      dependency.digest?.gitCommit,
      ext.sourceRepositoryDigest,
      "source commit",
    );
    const expectedUri =
      ext.sourceRepositoryUri === undefined
        ? undefined
        : `git+${ext.sourceRepositoryUri}@${ext.sourceRepositoryRef ?? ""}`;
    agree(
      `buildDefinition.resolvedDependencies[${index}].uri`,
      dependency.uri,
      expectedUri,
      "source repository and ref",
      true,
    );
  }
  const github = definition.internalParameters?.github;
  if (github !== undefined) {
    optionalAgree(
      "buildDefinition.internalParameters.github.runner_environment",
      github.runner_environment,
      ext.runnerEnvironment,
      "runner environment",
    );
    optionalAgree(
      "buildDefinition.internalParameters.github.event_name",
      github.event_name,
      ext.buildTrigger,
      "build trigger",
    );
    optionalAgree(
      "buildDefinition.internalParameters.github.repository_id",
      github.repository_id,
      ext.sourceRepositoryIdentifier,
      "repository id",
    );
  }
  checkBuilderId(buildType, provenance.runDetails?.builder?.id, ext);
  agree(
    "runDetails.metadata.invocationId",
    provenance.runDetails?.metadata?.invocationId,
    ext.runInvocationUri,
    "run invocation URI",
  );
  return { crossChecked: true, buildType };
}

/**
 * What `runDetails.builder.id` names depends on the build type. The slsa-framework type (npm
 * `publish --provenance`, attest-build-provenance v1) names the runner, as
 * `https://github.com/actions/runner/<runner environment>`; GitHub's own type names the signing workflow.
 */
function checkBuilderId(buildType: string, claimed: unknown, ext: FulcioExtensions): void {
  if (buildType === SLSA_FRAMEWORK_BUILD_TYPE) {
    const expected =
      ext.runnerEnvironment === undefined ? undefined : `${GITHUB_RUNNER_BUILDER}${ext.runnerEnvironment}`;
    agree("runDetails.builder.id", claimed, expected, "runner environment");
    return;
  }
  agree("runDetails.builder.id", claimed, ext.buildSignerUri, "signing workflow");
}

/** `https://github.com/o/r/.github/workflows/x.yml@ref` → `.github/workflows/x.yml`. */
function workflowPathOf(
  buildConfigUri: string | undefined,
  repositoryUri: string | undefined,
): string | undefined {
  if (buildConfigUri === undefined || repositoryUri === undefined) return undefined;
  const prefix = `${repositoryUri}/`;
  if (!buildConfigUri.toLowerCase().startsWith(prefix.toLowerCase())) return undefined;
  const rest = buildConfigUri.slice(prefix.length);
  const at = rest.indexOf("@");
  return at === -1 ? undefined : rest.slice(0, at);
}

function agree(
  field: string,
  claimed: unknown,
  attested: string | undefined,
  what: string,
  caseFold = false,
): void {
  if (attested === undefined) mismatch(field, claimed, `a certificate with a ${what}`);
  const equal =
    typeof claimed === "string" &&
    (caseFold ? claimed.toLowerCase() === attested.toLowerCase() : claimed === attested);
  if (!equal) mismatch(field, claimed, attested);
}

/** Fields the certificate may lack on older Fulcio versions: compared only when both are present. */
function optionalAgree(field: string, claimed: unknown, attested: string | undefined, what: string): void {
  if (claimed === undefined || attested === undefined) return;
  agree(field, claimed, attested, what);
}

function mismatch(field: string, claimed: unknown, attested: unknown): never {
  throw new VerifyError(
    "IC_ATTESTATION_PREDICATE_MISMATCH",
    `the predicate's ${field} is ${JSON.stringify(claimed ?? null)} but the certificate attests ${JSON.stringify(attested ?? null)}; the predicate is only a claim, so the statement is refused`,
  );
}
