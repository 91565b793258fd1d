import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type FulcioExtensions,
  type InTotoStatement,
  type ParsedBundle,
  parseAttestationFile,
  parseInTotoStatement,
  readFulcioExtensions,
} from "@ironclaw/verify";
import { X509Certificate } from "@sigstore/core";

/** Public test data of other projects, committed with their licences (test/fixtures/real-world/NOTICE). */
export const REAL_WORLD = fileURLToPath(new URL("../../../../test/fixtures/real-world/", import.meta.url));

export function realFile(path: string): Buffer {
  return readFileSync(`${REAL_WORLD}${path}`);
}

/** The statement and the certificate's extensions of a real single-bundle attestation. */
export function realStatement(path: string): { statement: InTotoStatement; extensions: FulcioExtensions } {
  const [entry] = parseAttestationFile(realFile(path), path);
  if (entry === undefined || entry.parsed.bundle.content.$case !== "dsseEnvelope")
    throw new Error(`${path} is not a DSSE bundle`);
  const statement = parseInTotoStatement(Buffer.from(entry.parsed.bundle.content.dsseEnvelope.payload));
  return { statement, extensions: readFulcioExtensions(leaf(entry.parsed)) };
}

function leaf(parsed: ParsedBundle): X509Certificate {
  const material = parsed.bundle.verificationMaterial.content;
  const raw =
    material.$case === "certificate"
      ? material.certificate.rawBytes
      : material.$case === "x509CertificateChain"
        ? material.x509CertificateChain.certificates[0]?.rawBytes
        : undefined;
  if (raw === undefined) throw new Error("the bundle has no certificate");
  return X509Certificate.parse(Buffer.from(raw));
}
