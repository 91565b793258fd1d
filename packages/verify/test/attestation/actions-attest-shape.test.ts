import {
  githubBuildProvenance,
  githubWorkflowIdentity,
  inTotoStatement,
  LocalSigstore,
  SLSA_PROVENANCE_V1,
} from "@ironclaw/sigstore-local";
import { describe, expect, it } from "vitest";
import { realFile, realStatement } from "../real-world/fixtures.js";
import type { EditableJson } from "../sigstore/expect-code.js";

// A real actions/attest bundle (gh's test data custom-issuer.sigstore.json, which gh's
// verify_test.go verifies): GitHub's build type, written by actions/attest for a workflow run.
// Our release attestations (release:local, and the tests' signer) must be shaped exactly like it.
const REAL = "gh-cli/custom-issuer.sigstore.json";

function identityOfRealRun() {
  const { extensions: ext } = realStatement(REAL);
  const repository = (ext.sourceRepositoryUri ?? "").replace("https://github.com/", "");
  const [, runId = "", runAttempt = ""] =
    /\/actions\/runs\/(\d+)\/attempts\/(\d+)$/.exec(ext.runInvocationUri ?? "") ?? [];
  const workflowPath = (ext.buildConfigUri ?? "").replace(`${ext.sourceRepositoryUri}/`, "").split("@")[0];
  return githubWorkflowIdentity({
    repository,
    ref: ext.sourceRepositoryRef ?? "",
    sha: ext.sourceRepositoryDigest ?? "",
    ...(workflowPath === undefined ? {} : { workflowPath }),
    eventName: ext.buildTrigger ?? "",
    runId,
    runAttempt,
    repositoryId: ext.sourceRepositoryIdentifier ?? "",
    ownerId: ext.sourceRepositoryOwnerIdentifier ?? "",
    runnerEnvironment: ext.runnerEnvironment ?? "",
  });
}

describe("our provenance is shaped exactly like actions/attest's real output", () => {
  it("writes the same predicate, field for field and in the same order, for the same run", () => {
    const { statement } = realStatement(REAL);
    const ours = githubBuildProvenance(identityOfRealRun());
    expect(JSON.stringify(ours)).toBe(JSON.stringify(statement.predicate));
  });

  it("writes the same statement around it", () => {
    const real = JSON.parse(realFile(REAL).toString("utf8")) as EditableJson;
    const payload = JSON.parse(Buffer.from(real.dsseEnvelope.payload, "base64").toString("utf8"));
    const { statement } = realStatement(REAL);
    const [subject] = statement.subjects;
    const ours = inTotoStatement(
      [{ name: subject?.name ?? "", sha256: subject?.digest.sha256 ?? "" }],
      SLSA_PROVENANCE_V1,
      githubBuildProvenance(identityOfRealRun()),
    );
    expect(JSON.stringify(ours)).toBe(JSON.stringify(payload));
  });

  it("signs it into a bundle of the same media type, material, log entry kind and envelope", async () => {
    const real = JSON.parse(realFile(REAL).toString("utf8")) as EditableJson;
    const sigstore = await LocalSigstore.start();
    try {
      const identity = identityOfRealRun();
      const statement = inTotoStatement(
        [{ name: "artifact", sha256: "a".repeat(64) }],
        SLSA_PROVENANCE_V1,
        githubBuildProvenance(identity),
      );
      const ours = (await sigstore.signDsse(
        Buffer.from(JSON.stringify(statement)),
        "application/vnd.in-toto+json",
        identity,
      )) as EditableJson;
      expect(ours.mediaType).toBe(real.mediaType);
      expect(Object.keys(ours.verificationMaterial).sort()).toEqual(
        Object.keys(real.verificationMaterial).sort(),
      );
      expect(ours.verificationMaterial.tlogEntries.map((e: EditableJson) => e.kindVersion)).toEqual(
        real.verificationMaterial.tlogEntries.map((e: EditableJson) => e.kindVersion),
      );
      expect(ours.dsseEnvelope.payloadType).toBe(real.dsseEnvelope.payloadType);
      expect(ours.dsseEnvelope.signatures).toHaveLength(real.dsseEnvelope.signatures.length);
      expect(Object.keys(ours.dsseEnvelope).sort()).toEqual(Object.keys(real.dsseEnvelope).sort());
    } finally {
      await sigstore.stop();
    }
  });
});
