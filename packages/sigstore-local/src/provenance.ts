import type { SigningIdentity } from "./identity.js";

export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
export const GITHUB_WORKFLOW_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1";

/**
 * The SLSA v1 provenance predicate that actions/attest-build-provenance writes for a workflow run,
 * built from the same GitHub claims the certificate is issued from, so the two agree as they do in
 * a real run. Tests change fields of the result to make them disagree.
 */
export function githubBuildProvenance(
  identity: SigningIdentity,
  server = "https://github.com",
): Record<string, unknown> {
  const claim = (name: string): string => {
    const value = identity.claims?.[name];
    if (value === undefined) throw new TypeError(`githubBuildProvenance: the identity has no ${name} claim`);
    return value;
  };
  const repository = claim("repository");
  const [workflowPath, ...refParts] = claim("workflow_ref").replace(`${repository}/`, "").split("@");
  return {
    buildDefinition: {
      buildType: GITHUB_WORKFLOW_BUILD_TYPE,
      externalParameters: {
        workflow: { ref: refParts.join("@"), repository: `${server}/${repository}`, path: workflowPath },
      },
      internalParameters: {
        github: {
          event_name: claim("event_name"),
          repository_id: claim("repository_id"),
          repository_owner_id: claim("repository_owner_id"),
          runner_environment: claim("runner_environment"),
        },
      },
      resolvedDependencies: [
        { uri: `git+${server}/${repository}@${claim("ref")}`, digest: { gitCommit: claim("sha") } },
      ],
    },
    runDetails: {
      builder: { id: `${server}/${claim("job_workflow_ref")}` },
      metadata: {
        invocationId: `${server}/${repository}/actions/runs/${claim("run_id")}/attempts/${claim("run_attempt")}`,
      },
    },
  };
}
