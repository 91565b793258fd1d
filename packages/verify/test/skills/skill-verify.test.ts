import { githubWorkflowIdentity } from "@ironclaw/sigstore-local";
import { gzipDeterministic } from "@ironclaw/verify/archive";
import { parseTrustedRoot, publicGoodTrustedRoot } from "@ironclaw/verify/sigstore";
import {
  packSkillDirectory,
  verifySkill,
  verifySkillSignature,
  writeSkillTar,
} from "@ironclaw/verify/skills";
import { beforeAll, describe, expect, it } from "vitest";
import { realFile } from "../real-world/fixtures.js";
import { expectVerifyError } from "../sigstore/expect-code.js";
import { ISSUER, useLocalSigstore } from "../sigstore/local-instance.js";
import { SKILL_MD, skillDirectory } from "./skill-fixtures.js";

const sigstore = useLocalSigstore();
const PUBLISHER = githubWorkflowIdentity({
  repository: "acme/skills",
  workflowPath: ".github/workflows/publish.yml",
  ref: "refs/heads/main",
  sha: "0123456789abcdef0123456789abcdef01234567",
});
const BY_IDENTITY = { issuer: ISSUER, identity: PUBLISHER.subject };
const BY_REPOSITORY = { repository: "acme/skills", workflow: ".github/workflows/publish.yml" };

let archive: Uint8Array;
let bundle: Buffer;
beforeAll(async () => {
  archive = (await packSkillDirectory(await skillDirectory())).archive;
  bundle = Buffer.from(JSON.stringify(await sigstore.ours.signMessage(archive, PUBLISHER)));
});

const options = (overrides: Partial<Parameters<typeof verifySkill>[0]> = {}) => ({
  archive,
  bundle,
  signer: BY_IDENTITY,
  trustedRoot: sigstore.root,
  expected: { name: "pdf-summary", version: "1.2.0" },
  ...overrides,
});

describe("skills sign + verify (local Sigstore)", () => {
  it("verifies a packed and signed skill by identity and issuer, and by repository and workflow", () => {
    const byIdentity = verifySkill(options());
    expect(byIdentity.signer.identity).toBe(PUBLISHER.subject);
    expect(byIdentity.manifest.tools).toEqual(["list_files", "read_file"]);
    const byRepository = verifySkill(options({ signer: BY_REPOSITORY }));
    expect(byRepository.signer.repository).toBe("https://github.com/acme/skills");
    expect(verifySkill(options({ signer: { repository: "acme/skills" } })).digest).toBe(byIdentity.digest);
  });

  it("refuses an unsigned skill", () => {
    const error = expectVerifyError(() => verifySkill(options({ bundle: undefined })), "IC_SKILL_UNSIGNED");
    expect(error.message).toContain("unsigned");
  });

  it("refuses a tampered archive: one byte changed after signing", () => {
    const tampered = Buffer.from(archive);
    tampered[tampered.length - 9] = (tampered[tampered.length - 9] ?? 0) ^ 1;
    expectVerifyError(() => verifySkill(options({ archive: tampered })), "IC_SIGNATURE_ARTIFACT_MISMATCH");
    // And when the caller names the digest it approved, the digest says it first.
    expectVerifyError(
      () => verifySkill(options({ archive: tampered, expected: { digest: verifySkill(options()).digest } })),
      "IC_SKILL_DIGEST_MISMATCH",
    );
  });

  it("refuses a wrong signer: another identity, another issuer, another repository or workflow", () => {
    expectVerifyError(
      () => verifySkill(options({ signer: { ...BY_IDENTITY, identity: `${PUBLISHER.subject}x` } })),
      "IC_POLICY_IDENTITY_MISMATCH",
    );
    expectVerifyError(
      () => verifySkill(options({ signer: { ...BY_IDENTITY, issuer: "https://accounts.google.com" } })),
      "IC_POLICY_ISSUER_MISMATCH",
    );
    expectVerifyError(
      () => verifySkill(options({ signer: { repository: "acme/skills-fork" } })),
      "IC_POLICY_REPOSITORY_MISMATCH",
    );
    expectVerifyError(
      () => verifySkill(options({ signer: { ...BY_REPOSITORY, workflow: ".github/workflows/release.yml" } })),
      "IC_POLICY_SIGNER_MISMATCH",
    );
  });

  it("refuses a bundle made for another artifact, and one from another Sigstore instance", async () => {
    const other = Buffer.from(
      JSON.stringify(await sigstore.ours.signMessage(Buffer.from("another file"), PUBLISHER)),
    );
    expectVerifyError(() => verifySkill(options({ bundle: other })), "IC_SIGNATURE_ARTIFACT_MISMATCH");
    const foreign = Buffer.from(JSON.stringify(await sigstore.foreign.signMessage(archive, PUBLISHER)));
    expect(() => verifySkill(options({ bundle: foreign }))).toThrow(/certificate|timestamp|chain|trusted/i);
  });

  it("refuses a SKILL.md that names another skill or version than expected", () => {
    expectVerifyError(
      () => verifySkill(options({ expected: { name: "pdf-summarY" } })),
      "IC_SKILL_NAME_MISMATCH",
    );
    expectVerifyError(
      () => verifySkill(options({ expected: { version: "1.2.1" } })),
      "IC_SKILL_VERSION_MISMATCH",
    );
  });

  it("refuses a signed archive whose SKILL.md has no front matter: a signature vouches for nothing more", async () => {
    const bad = gzipDeterministic(
      writeSkillTar([{ path: "SKILL.md", data: Buffer.from("no front matter\n") }]),
    );
    const signed = Buffer.from(JSON.stringify(await sigstore.ours.signMessage(bad, PUBLISHER)));
    expectVerifyError(
      () => verifySkill(options({ archive: bad, bundle: signed })),
      "IC_SKILL_MANIFEST_INVALID",
    );
  });

  it("refuses a signed archive whose SKILL.md hides an invisible character in the name", async () => {
    const text = SKILL_MD.replace("name: pdf-summary", "name: pdf-summary\u200d");
    const bad = gzipDeterministic(writeSkillTar([{ path: "SKILL.md", data: Buffer.from(text) }]));
    const signed = Buffer.from(JSON.stringify(await sigstore.ours.signMessage(bad, PUBLISHER)));
    const error = expectVerifyError(
      () => verifySkill(options({ archive: bad, bundle: signed })),
      "IC_SKILL_MANIFEST_INVALID",
    );
    expect(error.message).toContain("U+200D");
  });
});

describe("skills: the blob-signature path on a real-world bundle (sigstore-python test data)", () => {
  // A wheel signed keyless by trailofbits/rfc8785.py's release workflow; sigstore-python's verdict: verified
  // with that identity (test_policy.py::TestSingleExtPolicy::test_succeeds), refused with another ref.
  const whl = realFile("sigstore-python/bundle_v3_github.whl");
  const whlBundle = realFile("sigstore-python/bundle_v3_github.whl.sigstore");
  const real = (signer: Parameters<typeof verifySkillSignature>[0]["signer"]) =>
    verifySkillSignature({ archive: whl, bundle: whlBundle, signer, trustedRoot: publicGoodTrustedRoot() });

  it("accepts it by repository and workflow, and by identity and issuer", () => {
    expect(
      real({ repository: "trailofbits/rfc8785.py", workflow: ".github/workflows/release.yml" }).identity,
    ).toBe("https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2");
    real({
      issuer: "https://token.actions.githubusercontent.com",
      identity: "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
    });
  });

  it("refuses it for another repository, workflow or ref, as its owners do", () => {
    expectVerifyError(() => real({ repository: "trailofbits/other" }), "IC_POLICY_REPOSITORY_MISMATCH");
    expectVerifyError(
      () => real({ repository: "trailofbits/rfc8785.py", workflow: ".github/workflows/ci.yml" }),
      "IC_POLICY_SIGNER_MISMATCH",
    );
    expectVerifyError(
      () =>
        real({
          issuer: "https://token.actions.githubusercontent.com",
          identity:
            "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.3",
        }),
      "IC_POLICY_IDENTITY_MISMATCH",
    );
  });

  it("accepts an email identity's blob bundle against another instance's trusted root (staging), and refuses another email", () => {
    // sigstore-python's bundle_v3.txt, signed on Sigstore staging by william@yossarian.net via GitHub OAuth.
    const staging = parseTrustedRoot(
      realFile("sigstore-python/staging_trusted_root.json"),
      "sigstore-python staging root",
    );
    const options = (identity: string) => ({
      archive: realFile("sigstore-python/bundle_v3.txt"),
      bundle: realFile("sigstore-python/bundle_v3.txt.sigstore"),
      signer: { issuer: "https://github.com/login/oauth", identity },
      trustedRoot: staging,
    });
    expect(verifySkillSignature(options("william@yossarian.net")).identity).toBe("william@yossarian.net");
    expectVerifyError(
      () => verifySkillSignature(options("someone@yossarian.net")),
      "IC_POLICY_IDENTITY_MISMATCH",
    );
  });

  it("a signed wheel is still not a skill: verifySkill refuses it as an archive", () => {
    expectVerifyError(
      () =>
        verifySkill({
          archive: whl,
          bundle: whlBundle,
          signer: { repository: "trailofbits/rfc8785.py" },
          trustedRoot: publicGoodTrustedRoot(),
        }),
      "IC_SKILL_ARCHIVE_INVALID",
    );
  });
});
