import { GITHUB_ACTIONS_ISSUER, githubWorkflowIdentity, inTotoStatement } from "@ironclaw/sigstore-local";
import { describe, expect, it } from "vitest";

const SHA = "a".repeat(40);

describe("githubWorkflowIdentity", () => {
  it("has the claims of GitHub's OIDC token for a release workflow", () => {
    const id = githubWorkflowIdentity({ repository: "octo/tool", ref: "refs/tags/v1.0.0", sha: SHA });
    expect(id.subject).toBe("https://github.com/octo/tool/.github/workflows/release.yml@refs/tags/v1.0.0");
    expect(id.issuer).toBe(GITHUB_ACTIONS_ISSUER);
    expect(id.claims).toMatchObject({
      event_name: "push",
      sha: SHA,
      workflow: ".github/workflows/release.yml",
      repository: "octo/tool",
      repository_owner: "octo",
      ref: "refs/tags/v1.0.0",
      ref_type: "tag",
      job_workflow_ref: "octo/tool/.github/workflows/release.yml@refs/tags/v1.0.0",
      job_workflow_sha: SHA,
      workflow_ref: "octo/tool/.github/workflows/release.yml@refs/tags/v1.0.0",
      workflow_sha: SHA,
      runner_environment: "github-hosted",
      repository_visibility: "public",
      run_id: "1",
      run_attempt: "1",
    });
    expect(id.claims?.repository_id).toMatch(/^\d+$/);
    expect(id.claims?.repository_owner_id).toMatch(/^\d+$/);
    // Stable across calls, so tests can pin them.
    expect(
      githubWorkflowIdentity({ repository: "octo/tool", ref: "refs/heads/main", sha: SHA }).claims,
    ).toMatchObject({
      repository_id: id.claims?.repository_id,
      ref_type: "branch",
    });
  });

  it.each([
    [{ repository: "no-slash" }, /repository must be "owner\/name"/],
    [{ ref: "v1.0.0" }, /ref must be a full ref/],
    [{ sha: "ABC" }, /sha must be 40 lowercase hex digits/],
    [{ workflowPath: "release.yml" }, /workflowPath must be \.github\/workflows/],
    [{ jobWorkflowRef: "octo/tool/release.yml" }, /jobWorkflowRef must be/],
  ])("refuses %o", (override, message) => {
    expect(() =>
      githubWorkflowIdentity({ repository: "octo/tool", ref: "refs/tags/v1", sha: SHA, ...override }),
    ).toThrow(message);
  });
});

describe("inTotoStatement", () => {
  it("makes a Statement v1", () => {
    expect(
      inTotoStatement([{ name: "a.tgz", sha256: "b".repeat(64) }], "https://example.com/p", { x: 1 }),
    ).toEqual({
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ name: "a.tgz", digest: { sha256: "b".repeat(64) } }],
      predicateType: "https://example.com/p",
      predicate: { x: 1 },
    });
  });

  it("refuses no subjects and malformed digests", () => {
    expect(() => inTotoStatement([], "p", {})).toThrow(/at least one subject/);
    expect(() => inTotoStatement([{ name: "a", sha256: "xyz" }], "p", {})).toThrow(/64 lowercase hex/);
  });
});
