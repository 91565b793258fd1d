import { parseTrustedRoot } from "@ironclaw/verify";
import { describe, expect, it } from "vitest";
import { type EditableJson, expectVerifyError } from "./expect-code.js";
import { ARTIFACT, RELEASE_IDENTITY, useLocalSigstore, verify } from "./local-instance.js";

// Self-made: the one public bundle with a second RFC 3161 timestamp authority (sigstore-python's
// tsa/ assets) cannot be verified by sigstore-js's timestamp check at all (see the corpus table),
// so the extra timestamp here is a real one from our local TSA, made over another signature.
const sigstore = useLocalSigstore();
const sign = async (artifact: Buffer) =>
  (await sigstore.ours.signMessage(artifact, RELEASE_IDENTITY)) as EditableJson;
const stamps = (bundle: EditableJson) =>
  bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps;

async function withForeignStamp(): Promise<EditableJson> {
  const bundle = await sign(ARTIFACT);
  const other = await sign(Buffer.from("another artifact"));
  stamps(bundle).push(stamps(other)[0]);
  return bundle;
}

describe("RFC 3161 timestamps: at least the threshold must verify, and each failure is reported", () => {
  it("accepts one verified timestamp beside one that does not verify, naming the one set aside", async () => {
    const result = verify(await withForeignStamp(), sigstore.root);
    expect(result.timestamps.map((t) => t.source).sort()).toEqual([
      "timestamp-authority",
      "transparency-log",
    ]);
    expect(result.unverifiedTimestamps).toHaveLength(1);
    expect(result.unverifiedTimestamps[0]).toMatchObject({
      index: 1,
      reason: expect.stringContaining("timestamp"),
    });
    expect(result.unverifiedTimestamps[0]?.time).toBeInstanceOf(Date);
  });

  it("reports none when every timestamp verifies", async () => {
    expect(verify(await sign(ARTIFACT), sigstore.root).unverifiedTimestamps).toEqual([]);
  });

  it("refuses when no time source verifies: the only timestamp is another signature's, and no log time", async () => {
    const bundle = await sign(ARTIFACT);
    const other = await sign(Buffer.from("another artifact"));
    bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps = [stamps(other)[0]];
    delete bundle.verificationMaterial.tlogEntries[0].inclusionPromise;
    expectVerifyError(() => verify(bundle, sigstore.root), "IC_SIGNATURE_TIMESTAMP");
  });

  it("still refuses a duplicated timestamp", async () => {
    const bundle = await sign(ARTIFACT);
    stamps(bundle).push(stamps(bundle)[0]);
    expectVerifyError(() => verify(bundle, sigstore.root), "IC_SIGNATURE_TIMESTAMP");
  });

  it("refuses timestamps the root has no authority for, rather than set them all aside", async () => {
    const root = structuredClone(sigstore.ours.trustedRoot) as EditableJson;
    root.timestampAuthorities = [];
    const noAuthority = parseTrustedRoot(Buffer.from(JSON.stringify(root)), "no TSA");
    const bundle = await sign(ARTIFACT);
    const error = expectVerifyError(() => verify(bundle, noAuthority), "IC_SIGNATURE_TIMESTAMP");
    expect(error.message).toContain("no timestamp authority");
  });
});
