import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { githubWorkflowIdentity, LocalSigstore } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, temporaryDirectory } from "./helpers.js";

const ISSUER = "https://token.actions.githubusercontent.com";
const PUBLISHER = githubWorkflowIdentity({
  repository: "acme/skills",
  workflowPath: ".github/workflows/publish.yml",
  ref: "refs/heads/main",
  sha: "0123456789abcdef0123456789abcdef01234567",
});
const SKILL_MD = `---
name: pdf-summary
description: Summarise the PDFs in the workspace
version: 1.2.0
tools: [read_file, list_files]
---
List the PDFs, read each, and write five lines on each.
`;

let sigstore: LocalSigstore;
const work = temporaryDirectory("ironclaw-skills-cli-");
const cwd = work.path;

function skillDir(name: string, extra: Record<string, string> = {}): string {
  const dir = join(cwd, name);
  mkdirSync(join(dir, "templates"), { recursive: true });
  writeFileSync(join(dir, "SKILL.md"), SKILL_MD);
  writeFileSync(join(dir, "templates", "summary.txt"), "Title:\n");
  for (const [path, text] of Object.entries(extra)) writeFileSync(join(dir, path), text);
  return dir;
}

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
  writeFileSync(join(cwd, "trusted_root.json"), JSON.stringify(sigstore.trustedRoot));
});
afterAll(async () => {
  await sigstore?.stop();
  work.remove();
});

const signWith = (archive: string, identity = PUBLISHER) =>
  runCli(
    [
      "skills",
      "sign",
      archive,
      "--json",
      "--fulcio-url",
      sigstore.urls.fulcio,
      "--rekor-url",
      sigstore.urls.rekor,
    ],
    { cwd, env: { SIGSTORE_ID_TOKEN: sigstore.identityToken(identity) } },
  );
const verify = (archive: string, ...flags: string[]) =>
  runCli(["skills", "verify", archive, "--trusted-root", "trusted_root.json", "--json", ...flags], { cwd });

describe("ironclaw skills pack | sign | verify", () => {
  it("packs reproducibly, signs keyless against Sigstore, and verifies offline by identity or repository", async () => {
    skillDir("skill");
    const first = await runCli(["skills", "pack", "skill", "-o", "a.tar.gz", "--json"], { cwd });
    const second = await runCli(["skills", "pack", "skill", "-o", "b.tar.gz"], { cwd });
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(readFileSync(join(cwd, "a.tar.gz")).equals(readFileSync(join(cwd, "b.tar.gz")))).toBe(true);
    const packed = JSON.parse(first.stdout);
    expect(packed).toMatchObject({
      ok: true,
      name: "pdf-summary",
      version: "1.2.0",
      tools: ["list_files", "read_file"],
    });

    const signed = await signWith("a.tar.gz");
    expect(signed.stderr).toBe("");
    expect(signed.code).toBe(0);
    expect(JSON.parse(signed.stdout)).toMatchObject({ ok: true, digest: packed.digest });

    const byIdentity = await verify(
      "a.tar.gz",
      "--certificate-identity",
      PUBLISHER.subject,
      "--certificate-oidc-issuer",
      ISSUER,
    );
    expect(byIdentity.code).toBe(0);
    expect(JSON.parse(byIdentity.stdout)).toMatchObject({
      ok: true,
      skill: { name: "pdf-summary", digest: packed.digest },
      signer: { identity: PUBLISHER.subject, issuer: ISSUER },
    });
    const byRepository = await verify(
      "a.tar.gz",
      "--repo",
      "acme/skills",
      "--signer-workflow",
      "acme/skills/.github/workflows/publish.yml",
      "--name",
      "pdf-summary",
      "--version",
      "1.2.0",
      "--digest",
      packed.digest,
    );
    expect(byRepository.code).toBe(0);
  });

  it("says no, exit 1, with the reason: wrong identity, wrong repository, unsigned, tampered, wrong version", async () => {
    skillDir("skill2");
    await runCli(["skills", "pack", "skill2", "-o", "s.tar.gz"], { cwd });
    expect((await signWith("s.tar.gz")).code).toBe(0);
    const refusals: [string[], string][] = [
      [
        ["--certificate-identity", `${PUBLISHER.subject}x`, "--certificate-oidc-issuer", ISSUER],
        "IC_POLICY_IDENTITY_MISMATCH",
      ],
      [
        [
          "--certificate-identity",
          PUBLISHER.subject,
          "--certificate-oidc-issuer",
          "https://accounts.google.com",
        ],
        "IC_POLICY_ISSUER_MISMATCH",
      ],
      [["--repo", "acme/other"], "IC_POLICY_REPOSITORY_MISMATCH"],
      [["--repo", "acme/skills", "--version", "1.2.1"], "IC_SKILL_VERSION_MISMATCH"],
      [["--repo", "acme/skills", "--bundle", "none.json"], "IC_SKILL_UNSIGNED"],
    ];
    for (const [flags, code] of refusals) {
      const result = await verify("s.tar.gz", ...flags);
      expect(result.code, code).toBe(1);
      expect(JSON.parse(result.stdout).error.code).toBe(code);
    }
    const bytes = readFileSync(join(cwd, "s.tar.gz"));
    bytes[20] = (bytes[20] ?? 0) ^ 1;
    writeFileSync(join(cwd, "t.tar.gz"), bytes);
    writeFileSync(join(cwd, "t.tar.gz.sigstore.json"), readFileSync(join(cwd, "s.tar.gz.sigstore.json")));
    const tampered = await verify("t.tar.gz", "--repo", "acme/skills");
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout).error.code).toBe("IC_SIGNATURE_ARTIFACT_MISMATCH");
    // Flags that name no signer, or two, are usage errors.
    expect((await verify("s.tar.gz")).code).toBe(2);
    expect(
      (
        await verify(
          "s.tar.gz",
          "--repo",
          "a/b",
          "--certificate-identity",
          "x",
          "--certificate-oidc-issuer",
          "y",
        )
      ).code,
    ).toBe(2);
  });

  it("signs in a GitHub Actions job with the job's own OIDC token (a stand-in on loopback)", async () => {
    const token = sigstore.identityToken(PUBLISHER);
    const server = createServer((_req, res) => res.end(JSON.stringify({ value: token })));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      skillDir("actions");
      await runCli(["skills", "pack", "actions", "-o", "ac.tar.gz"], { cwd });
      const port = (server.address() as AddressInfo).port;
      const signed = await runCli(
        [
          "skills",
          "sign",
          "ac.tar.gz",
          "--fulcio-url",
          sigstore.urls.fulcio,
          "--rekor-url",
          sigstore.urls.rekor,
        ],
        {
          cwd,
          env: {
            ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
            ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runner-secret",
          },
        },
      );
      expect(signed.code).toBe(0);
      const verified = await verify(
        "ac.tar.gz",
        "--repo",
        "acme/skills",
        "--signer-workflow",
        ".github/workflows/publish.yml",
      );
      expect(verified.code).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("adds an RFC 3161 timestamp when a timestamp authority is named, and the bundle still verifies", async () => {
    skillDir("stamped");
    await runCli(["skills", "pack", "stamped", "-o", "st.tar.gz"], { cwd });
    const signed = await runCli(
      [
        "skills",
        "sign",
        "st.tar.gz",
        "--fulcio-url",
        sigstore.urls.fulcio,
        "--rekor-url",
        sigstore.urls.rekor,
        "--tsa-url",
        sigstore.urls.tsa as string,
      ],
      { cwd, env: { SIGSTORE_ID_TOKEN: sigstore.identityToken(PUBLISHER) } },
    );
    expect(signed.code).toBe(0);
    const bundle = JSON.parse(readFileSync(join(cwd, "st.tar.gz.sigstore.json"), "utf8"));
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    expect((await verify("st.tar.gz", "--repo", "acme/skills")).code).toBe(0);
  });

  it("refuses to pack a symlink or into the skill itself, to sign what is not a skill, or to sign without an identity token", async () => {
    const dir = skillDir("linked");
    symlinkSync("/dev/zero", join(dir, "zero"));
    const packed = await runCli(["skills", "pack", "linked", "-o", "l.tar.gz", "--json"], { cwd });
    expect(packed.code).toBe(1);
    expect(JSON.parse(packed.stdout).error).toMatchObject({ code: "IC_SKILL_ENTRY_REFUSED" });
    skillDir("plain");
    await runCli(["skills", "pack", "plain", "-o", "p.tar.gz"], { cwd });
    const inside = await runCli(["skills", "pack", "plain", "-o", "plain/p.tar.gz", "--json"], { cwd });
    expect(inside.code).toBe(2);
    writeFileSync(join(cwd, "not-a-skill.tar.gz"), "plain text");
    const notSkill = await runCli(["skills", "sign", "not-a-skill.tar.gz", "--json"], {
      cwd,
      env: { SIGSTORE_ID_TOKEN: sigstore.identityToken(PUBLISHER) },
    });
    expect(notSkill.code).toBe(1);
    expect(JSON.parse(notSkill.stdout).error.code).toBe("IC_SKILL_ARCHIVE_INVALID");
    // A Fulcio that is not there: an environment failure (exit 3) that says where it failed.
    const offline = await runCli(
      [
        "skills",
        "sign",
        "p.tar.gz",
        "--json",
        "--fulcio-url",
        "http://127.0.0.1:9",
        "--rekor-url",
        sigstore.urls.rekor,
      ],
      { cwd, env: { SIGSTORE_ID_TOKEN: sigstore.identityToken(PUBLISHER) } },
    );
    expect(offline.code).toBe(3);
    expect(JSON.parse(offline.stdout).error).toMatchObject({
      code: "IC_NETWORK",
      message: expect.stringContaining("signing failed"),
    });
    const unsigned = await runCli(["skills", "sign", "p.tar.gz", "--json"], { cwd, env: {} });
    expect(unsigned.code).toBe(2);
    expect(JSON.parse(unsigned.stdout).error.message).toContain("SIGSTORE_ID_TOKEN");
  });
});
