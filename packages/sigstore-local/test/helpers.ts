import { connect } from "node:net";
import { bundleFromJSON, type SerializedBundle } from "@sigstore/bundle";
import { X509Certificate } from "@sigstore/core";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import {
  type Signer,
  toSignedEntity,
  toTrustMaterial,
  type VerificationPolicy,
  Verifier,
} from "@sigstore/verify";

/** Verifies a serialized bundle against a trusted_root.json document, as a real verifier would. */
export function verifyBundle(
  root: Record<string, unknown>,
  bundle: SerializedBundle,
  artifact?: Uint8Array,
  policy?: VerificationPolicy,
): Signer {
  const trust = toTrustMaterial(TrustedRoot.fromJSON(root));
  const entity = toSignedEntity(
    bundleFromJSON(bundle),
    artifact === undefined ? undefined : Buffer.from(artifact),
  );
  return new Verifier(trust).verify(entity, policy);
}

export function leafCertificate(bundle: SerializedBundle): X509Certificate {
  const der = bundle.verificationMaterial.certificate?.rawBytes;
  if (der === undefined) throw new Error("bundle has no certificate");
  return X509Certificate.parse(Buffer.from(der, "base64"));
}

// Fulcio's first extensions (.1–.6) hold raw bytes; the later ones a DER UTF8String.
export function extension(cert: X509Certificate, oid: string): string | undefined {
  const ext = cert.extension(oid);
  if (ext === undefined) return undefined;
  const arc = Number(oid.split(".").at(-1));
  const bytes = arc <= 6 ? ext.value : ext.valueObj.subs[0]?.value;
  return bytes?.toString("utf8");
}

/** Resolves true when something accepts TCP connections at the URL's port. */
export function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
