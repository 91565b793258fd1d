import type { Bundle } from "@sigstore/bundle";

/** The DER of the bundle's signing certificate (the first of a chain), or undefined for a key-signed bundle. */
export function leafCertificateBytes(bundle: Bundle): Uint8Array | undefined {
  const material = bundle.verificationMaterial.content;
  if (material.$case === "certificate") return material.certificate.rawBytes;
  if (material.$case === "x509CertificateChain")
    return material.x509CertificateChain.certificates[0]?.rawBytes;
  return undefined;
}
