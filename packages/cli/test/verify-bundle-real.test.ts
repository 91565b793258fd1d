import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

// sigstore-go's othername.sigstore.json under its scaffolding.json root (test/fixtures/real-world/
// NOTICE): a Fulcio certificate whose only identity is an otherName `username` (OID
// 1.3.6.1.4.1.57264.1.7), logged in a self-hosted Rekor. sigstore-go's TestEntityWithOthernameSan
// accepts "foo!oidc.local" and refuses "foo@oidc.local".
const cwd = fileURLToPath(new URL("../../../test/fixtures/real-world/sigstore-go/", import.meta.url));
const DIGEST = "sha256:bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b";
const verify = (...identity: string[]) =>
  runCli(
    [
      "verify-bundle",
      "--bundle",
      "bundles/othername.sigstore.json",
      "--trusted-root",
      "trusted-roots/scaffolding.json",
      ...identity,
      DIGEST,
    ],
    { cwd, env: {} },
  );

describe("verify-bundle on a certificate whose identity is an otherName (Fulcio username)", () => {
  it("matches --certificate-identity against the username, exactly or by an anchored regexp", async () => {
    const exact = await verify(
      "--certificate-identity",
      "foo!oidc.local",
      "--certificate-oidc-issuer",
      "http://oidc.local:8080",
    );
    expect(exact.stderr).toBe("");
    expect(exact.stdout).toContain("signer      foo!oidc.local");
    expect(exact.code).toBe(0);
    const regexp = await verify(
      "--certificate-identity-regexp",
      "foo!.*",
      "--certificate-oidc-issuer",
      "http://oidc.local:8080",
    );
    expect(regexp.code).toBe(0);
  });

  it("refuses another identity, a mere prefix, and another issuer", async () => {
    for (const identity of ["foo@oidc.local", "foo!oidc", "foo"]) {
      const result = await verify(
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        "http://oidc.local:8080",
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        'IC_POLICY_IDENTITY_MISMATCH: the certificate identity is "foo!oidc.local"',
      );
    }
    const issuer = await verify(
      "--certificate-identity",
      "foo!oidc.local",
      "--certificate-oidc-issuer",
      "http://oidc.local:8081",
    );
    expect(issuer.code).toBe(1);
    expect(issuer.stderr).toContain("IC_POLICY_ISSUER_MISMATCH");
  });
});
