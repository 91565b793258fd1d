import { describeTrustedRoot, parseTrustedRoot, publicGoodTrustedRoot } from "@ironclaw/verify";
import { describe, expect, it } from "vitest";
import { type EditableJson, expectVerifyError } from "./expect-code.js";

const embedded = publicGoodTrustedRoot();

function variant(edit: (root: EditableJson) => void): Buffer {
  const copy = structuredClone(embedded.document) as EditableJson;
  edit(copy);
  return Buffer.from(JSON.stringify(copy));
}

describe("the embedded public-good trusted root", () => {
  it("loads offline from @sigstore/tuf's seeds, with logs and authorities", () => {
    expect(embedded.origin).toBe("Sigstore public-good (embedded)");
    expect(embedded.root.tlogs.length).toBeGreaterThan(0);
    expect(embedded.root.certificateAuthorities.length).toBeGreaterThan(0);
    expect(embedded.root.ctlogs.length).toBeGreaterThan(0);
    expect(embedded.document.mediaType).toBe("application/vnd.dev.sigstore.trustedroot+json;version=0.1");
    // Reports name it and the date of its newest key (the Rekor v2 shard of 2025 in @sigstore/tuf 4.0.2).
    expect(describeTrustedRoot(embedded)).toEqual({
      name: "Sigstore public-good (embedded)",
      embedded: true,
      newestKeyFrom: "2025-09-23",
    });
  });
});

describe("parseTrustedRoot", () => {
  it("accepts an unchanged root, and null for an absent field as protobuf JSON writes it", () => {
    expect(
      parseTrustedRoot(
        variant(() => {}),
        "copy",
      ).origin,
    ).toBe("copy");
    parseTrustedRoot(
      variant((root) => (root.tlogs[0].checkpointKeyId = null)),
      "copy",
    );
  });

  it.each([
    ["a transparency log", (root: EditableJson) => delete root.tlogs[0].publicKey.validFor.start],
    ["a CT log", (root: EditableJson) => delete root.ctlogs[0].publicKey.validFor.start],
    ["a certificate authority", (root: EditableJson) => delete root.certificateAuthorities[0].validFor.start],
    ["a timestamp authority", (root: EditableJson) => delete root.timestampAuthorities[0].validFor.start],
    ["a transparency log, whole range", (root: EditableJson) => delete root.tlogs[0].publicKey.validFor],
  ])("refuses %s without validFor.start, which would trust it for all of the past", (_what, edit) => {
    const error = expectVerifyError(
      () => parseTrustedRoot(variant(edit), "edited"),
      "IC_TRUSTED_ROOT_MISSING_VALIDITY",
    );
    expect(error.message).toContain("validFor.start is missing");
  });

  it.each([
    ["malformed JSON", Buffer.from("{")],
    ["an unknown field", variant((root) => (root.extra = true))],
    ["an unknown nested field", variant((root) => (root.tlogs[0].publicKey.extra = 1))],
    ["another media type", variant((root) => (root.mediaType = "application/json"))],
    [
      "a time that is not RFC 3339",
      variant((root) => (root.tlogs[0].publicKey.validFor.start = "yesterday")),
    ],
    [
      "a range that ends before it starts",
      variant((root) => (root.tlogs[0].publicKey.validFor.end = "2000-01-01T00:00:00Z")),
    ],
    ["bad base64 key bytes", variant((root) => (root.tlogs[0].publicKey.rawBytes = "not*base64"))],
    [
      "an authority without certificates",
      variant((root) => (root.certificateAuthorities[0].certChain.certificates = [])),
    ],
  ])("refuses %s", (_what, bytes) => {
    expectVerifyError(() => parseTrustedRoot(bytes, "edited"), "IC_TRUSTED_ROOT_INVALID");
  });
});
