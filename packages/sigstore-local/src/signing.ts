import { createHash } from "node:crypto";
import {
  type BundleWithDsseEnvelope,
  type BundleWithMessageSignature,
  toMessageSignatureBundle,
} from "@sigstore/bundle";
import { pem } from "@sigstore/core";
import {
  type Artifact,
  type BundleBuilderOptions,
  DSSEBundleBuilder,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
  type Signature,
  TSAWitness,
  type Witness,
} from "@sigstore/sign";

/** Where the client sends its requests, and how it proves who it is. */
export interface SigningServices {
  fulcioURL: string;
  rekorURL: string;
  tsaURL?: string;
  /** Returns the OIDC identity token for this one signing. */
  identityToken: () => string;
}

export type RekorEntryType = "dsse" | "intoto";

// A loopback service answers at once or is broken: fail fast instead of retrying.
const FETCH = { retry: 0, timeout: 10_000 } as const;

/**
 * @sigstore/sign's message builder always writes a v0.2 bundle (a one-certificate chain). The same steps,
 * packaged as v0.3, the current bundle version, which carries the leaf alone as `certificate`.
 */
class MessageSignatureV03BundleBuilder extends MessageSignatureBundleBuilder {
  protected override async package(
    artifact: Artifact,
    signature: Signature,
  ): Promise<BundleWithMessageSignature> {
    if (signature.key.$case !== "x509Certificate") {
      throw new Error("sigstore-local: expected a Fulcio certificate from the signer");
    }
    return toMessageSignatureBundle({
      digest: createHash("sha256").update(artifact.data).digest(),
      signature: signature.signature,
      certificate: pem.toDER(signature.key.certificate),
      certificateChain: false,
    });
  }
}

function builderOptions(s: SigningServices, entryType?: RekorEntryType): BundleBuilderOptions {
  const signer = new FulcioSigner({
    fulcioBaseURL: s.fulcioURL,
    identityProvider: { getToken: async () => s.identityToken() },
    ...FETCH,
  });
  const witnesses: Witness[] = [
    new RekorWitness({ rekorBaseURL: s.rekorURL, ...(entryType && { entryType }), ...FETCH }),
  ];
  if (s.tsaURL !== undefined) witnesses.push(new TSAWitness({ tsaBaseURL: s.tsaURL, ...FETCH }));
  return { signer, witnesses };
}

/** Signs `artifact` as a message signature: a v0.3 bundle with a Rekor v1 hashedrekord entry. */
export function signMessageBundle(
  s: SigningServices,
  artifact: Uint8Array,
): Promise<BundleWithMessageSignature> {
  return new MessageSignatureV03BundleBuilder(builderOptions(s)).create({ data: toBuffer(artifact) });
}

/** Signs `payload` in a DSSE envelope: a v0.3 bundle with a Rekor v1 dsse (or intoto) entry. */
export function signDsseBundle(
  s: SigningServices,
  payload: Uint8Array,
  payloadType: string,
  entry: RekorEntryType,
): Promise<BundleWithDsseEnvelope> {
  return new DSSEBundleBuilder({ ...builderOptions(s, entry), certificateChain: false }).create({
    data: toBuffer(payload),
    type: payloadType,
  });
}

// A copy: the caller may reuse its array while the signing is under way.
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}
