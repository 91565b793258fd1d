import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import {
  type SignedEntity,
  type TrustMaterial,
  toSignedEntity,
  toTrustMaterial,
  VerificationError,
  Verifier,
} from "@sigstore/verify";
import { getTSATimestamp } from "@sigstore/verify/dist/timestamp/index.js";
import { describe, expect, it } from "vitest";
import { installDerEncoder } from "../../src/sigstore/der-encoding.js";
import { type VerifiedTimestamp, verifySigningKey } from "../../src/sigstore/signing-key.js";
import type { EditableJson } from "./expect-code.js";
import { ARTIFACT, RELEASE_IDENTITY, useLocalSigstore } from "./local-instance.js";

// verifySigningKey makes the checks sigstore-js's Verifier made of the timestamps and the key, taking
// the results of the one RFC 3161 check instead of checking again. Each case runs both on the same
// inputs (sigstore-js 3.1.1 is the oracle) and demands the same verdict: the same key, or the same
// error code and message. Self-made bundles from the local instance: these are edits of real ones
// that no public sample holds (two entries from one log at one time, a root that trusts no CA).
const sigstore = useLocalSigstore();

interface Case {
  readonly entity: SignedEntity;
  readonly material: TrustMaterial;
  readonly ctlogThreshold: number;
}

function entityOf(document: EditableJson): SignedEntity {
  installDerEncoder();
  return toSignedEntity(bundleFromJSON(document));
}

function materialOf(root: EditableJson, key?: KeyObject, validFor?: (date: Date) => boolean): TrustMaterial {
  const parsed = TrustedRoot.fromJSON(root);
  return key === undefined
    ? toTrustMaterial(parsed, {})
    : toTrustMaterial(parsed, () => ({ publicKey: key, validFor: validFor ?? (() => true) }));
}

/** The RFC 3161 checks partitionTimestamps makes, once, in order. */
function authorityTimes(entity: SignedEntity, material: TrustMaterial): VerifiedTimestamp[] {
  return entity.timestamps.flatMap((timestamp) =>
    timestamp.$case === "timestamp-authority"
      ? [getTSATimestamp(timestamp.timestamp, entity.signature.signature, material.timestampAuthorities)]
      : [],
  );
}

type Verdict = { key: string } | { code: string; message: string };

function verdict(action: () => KeyObject): Verdict {
  try {
    return { key: action().export({ format: "der", type: "spki" }).toString("hex") };
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    return { code: error.code, message: error.message };
  }
}

/** Ours and sigstore-js's Verifier (given no log entries and a signature it does not check) on one case. */
function both({ entity, material, ctlogThreshold }: Case): { ours: Verdict; sigstoreJs: Verdict } {
  const deferred = { ...entity.signature, verifySignature: () => true };
  return {
    ours: verdict(() => verifySigningKey(entity, authorityTimes(entity, material), material, ctlogThreshold)),
    sigstoreJs: verdict(
      () =>
        new Verifier(material, { tlogThreshold: 0, ctlogThreshold }).verify({
          ...entity,
          signature: deferred,
          tlogEntries: [],
        }).key,
    ),
  };
}

async function signed(): Promise<EditableJson> {
  return (await sigstore.ours.signMessage(ARTIFACT, RELEASE_IDENTITY)) as EditableJson;
}

const root = () => structuredClone(sigstore.ours.trustedRoot) as EditableJson;

describe("verifySigningKey: sigstore-js's timestamp and key checks, each RFC 3161 timestamp checked once", () => {
  it("returns the leaf's key, as sigstore-js does, for a bundle timed by its log and its TSA", async () => {
    const entity = entityOf(await signed());
    const { ours, sigstoreJs } = both({ entity, material: materialOf(root()), ctlogThreshold: 1 });
    expect(ours).toHaveProperty("key");
    expect(ours).toEqual(sigstoreJs);
    expect(entity.timestamps.map((t) => t.$case).sort()).toEqual(["timestamp-authority", "transparency-log"]);
  });

  it("says no to two timestamps from one log at one time", async () => {
    const document = await signed();
    document.verificationMaterial.tlogEntries.push(
      structuredClone(document.verificationMaterial.tlogEntries[0]),
    );
    const { ours, sigstoreJs } = both({
      entity: entityOf(document),
      material: materialOf(root()),
      ctlogThreshold: 1,
    });
    expect(ours).toEqual({ code: "TIMESTAMP_ERROR", message: "duplicate timestamp" });
    expect(ours).toEqual(sigstoreJs);
  });

  it("keeps two timestamps that differ only in source", async () => {
    const entity = entityOf(await signed());
    const material = materialOf(root());
    const [fromAuthority] = authorityTimes(entity, material);
    if (fromAuthority === undefined) throw new Error("the local instance made no RFC 3161 timestamp");
    // The log's entry says the same time as the authority, under the authority's serial as log ID.
    const tlogEntry = entity.timestamps.find((t) => t.$case === "transparency-log");
    if (tlogEntry?.$case !== "transparency-log") throw new Error("no log timestamp");
    tlogEntry.tlogEntry.integratedTime = String(fromAuthority.timestamp.getTime() / 1000);
    tlogEntry.tlogEntry.logId = { keyId: fromAuthority.logID };
    const { ours, sigstoreJs } = both({ entity, material, ctlogThreshold: 1 });
    expect(ours).toHaveProperty("key");
    expect(ours).toEqual(sigstoreJs);
  });

  it("says no when no timestamp is left", async () => {
    const entity = entityOf(await signed());
    const { ours, sigstoreJs } = both({
      entity: { ...entity, timestamps: [] },
      material: materialOf(root()),
      ctlogThreshold: 1,
    });
    expect(ours).toEqual({ code: "TIMESTAMP_ERROR", message: "expected 1 timestamps, got 0" });
    expect(ours).toEqual(sigstoreJs);
  });

  it("says no to a certificate no trusted CA issued", async () => {
    const foreign = entityOf(
      (await sigstore.foreign.signMessage(ARTIFACT, RELEASE_IDENTITY)) as EditableJson,
    );
    const { ours, sigstoreJs } = both({ entity: foreign, material: materialOf(root()), ctlogThreshold: 1 });
    expect(ours).toMatchObject({ code: "CERTIFICATE_ERROR" });
    expect(ours).toEqual(sigstoreJs);
  });

  it("says no to a certificate checked at a time outside its validity, whichever timestamp says it", async () => {
    const document = await signed();
    // A second entry of the same log, a year on: the first timestamp still says a valid time.
    const later = structuredClone(document.verificationMaterial.tlogEntries[0]);
    later.integratedTime = String(Math.floor(Date.now() / 1000) + 365 * 24 * 3600);
    document.verificationMaterial.tlogEntries.push(later);
    const entity = entityOf(document);
    expect(entity.timestamps.map((t) => t.$case)).toEqual([
      "transparency-log",
      "transparency-log",
      "timestamp-authority",
    ]);
    const { ours, sigstoreJs } = both({ entity, material: materialOf(root()), ctlogThreshold: 1 });
    expect(ours).toMatchObject({ code: "CERTIFICATE_ERROR" });
    expect(ours).toEqual(sigstoreJs);
  });

  it("says no when fewer SCTs verify than the threshold", async () => {
    const entity = entityOf(await signed());
    const { ours, sigstoreJs } = both({ entity, material: materialOf(root()), ctlogThreshold: 2 });
    expect(ours).toEqual({ code: "CERTIFICATE_ERROR", message: "expected 2 SCTs, got 1" });
    expect(ours).toEqual(sigstoreJs);
  });

  it("says no when the root's CT log did not sign the SCT", async () => {
    const entity = entityOf(await signed());
    const other = root();
    other.ctlogs = structuredClone(sigstore.foreign.trustedRoot.ctlogs);
    const { ours, sigstoreJs } = both({ entity, material: materialOf(other), ctlogThreshold: 1 });
    expect(ours).toMatchObject({ code: "CERTIFICATE_ERROR" });
    expect(ours).toEqual(sigstoreJs);
  });

  it("checks a public key at every time, and says no outside its window", async () => {
    const entity = entityOf(await signed());
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const keyed: SignedEntity = { ...entity, key: { $case: "public-key", hint: "" } };
    const inside = both({ entity: keyed, material: materialOf(root(), publicKey), ctlogThreshold: 0 });
    expect(inside.ours).toEqual({ key: publicKey.export({ format: "der", type: "spki" }).toString("hex") });
    expect(inside.ours).toEqual(inside.sigstoreJs);
    const never = both({
      entity: keyed,
      material: materialOf(root(), publicKey, () => false),
      ctlogThreshold: 0,
    });
    expect(never.ours).toMatchObject({ code: "PUBLIC_KEY_ERROR" });
    expect(never.ours).toEqual(never.sigstoreJs);
  });

  it("refuses to count an RFC 3161 timestamp whose check it was not given", async () => {
    const entity = entityOf(await signed());
    const material = materialOf(root());
    expect(() => verifySigningKey(entity, [], material, 1)).toThrow(/unverified/);
    const twice = [...authorityTimes(entity, material), ...authorityTimes(entity, material)];
    expect(() => verifySigningKey(entity, twice, material, 1)).toThrow(/more RFC 3161 results/);
  });
});
