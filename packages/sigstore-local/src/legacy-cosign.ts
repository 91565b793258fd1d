import type { BundleWithMessageSignature } from "@sigstore/bundle";
import { pem } from "@sigstore/core";

/** cosign's legacy `--bundle` file (`cosign sign-blob --bundle`), before Sigstore bundles. */
export interface LegacyCosignBundle {
  base64Signature: string;
  /** base64 of the leaf certificate's PEM. */
  cert: string;
  rekorBundle: {
    /** The Rekor SET, base64. */
    SignedEntryTimestamp: string;
    Payload: {
      /** The canonicalized Rekor entry body, base64. */
      body: string;
      integratedTime: number;
      logIndex: number;
      /** The Rekor log id, hex. */
      logID: string;
    };
  };
}

/** The same signature, certificate and Rekor entry as a message-signature bundle, in cosign's legacy form. */
export function toLegacyCosignBundle(bundle: BundleWithMessageSignature): LegacyCosignBundle {
  const content = bundle.verificationMaterial.content;
  const der =
    content.$case === "certificate"
      ? content.certificate.rawBytes
      : content.$case === "x509CertificateChain"
        ? content.x509CertificateChain.certificates[0]?.rawBytes
        : undefined;
  if (der === undefined) throw new Error("sigstore-local: the bundle carries no signing certificate");
  const entry = bundle.verificationMaterial.tlogEntries[0];
  if (entry === undefined) throw new Error("sigstore-local: the bundle has no Rekor entry");
  if (entry.inclusionPromise === undefined) {
    throw new Error("sigstore-local: the Rekor entry has no signed entry timestamp (a Rekor v2 entry?)");
  }
  return {
    base64Signature: bundle.content.messageSignature.signature.toString("base64"),
    cert: Buffer.from(pem.fromDER(der)).toString("base64"),
    rekorBundle: {
      SignedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp.toString("base64"),
      Payload: {
        body: entry.canonicalizedBody.toString("base64"),
        integratedTime: Number(entry.integratedTime),
        logIndex: Number(entry.logIndex),
        logID: entry.logId.keyId.toString("hex"),
      },
    },
  };
}
