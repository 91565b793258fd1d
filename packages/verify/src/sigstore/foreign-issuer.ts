import { X509Certificate } from "node:crypto";
import type { Bundle } from "@sigstore/bundle";
import { leafCertificateBytes } from "./leaf-certificate.js";
import type { LoadedTrustedRoot } from "./trusted-root.js";

/**
 * When a bundle's signing certificate was issued by no certificate authority of the root, the
 * usual reason is another Sigstore instance (GitHub's private one, a company's own): say which
 * issuer it names, so the user knows to pass that instance's root. Undefined when the root has
 * the issuer, or the certificate cannot be read (the verification's own error says why).
 */
export function foreignIssuer(bundle: Bundle, root: LoadedTrustedRoot): string | undefined {
  const raw = leafCertificateBytes(bundle);
  if (raw === undefined) return undefined;
  let issuer: string;
  try {
    issuer = new X509Certificate(Buffer.from(raw)).issuer;
  } catch {
    return undefined;
  }
  for (const authority of root.root.certificateAuthorities) {
    for (const certificate of authority.certChain?.certificates ?? []) {
      try {
        if (new X509Certificate(Buffer.from(certificate.rawBytes)).subject === issuer) return undefined;
      } catch {
        // A root certificate Node cannot read names no issuer.
      }
    }
  }
  // Node writes one attribute per line and escapes commas inside values.
  return issuer
    .split("\n")
    .map((part) => part.replaceAll("\\,", ","))
    .join(", ");
}

/** The sentence reports append to a failed signature when the certificate comes from elsewhere. */
export function foreignIssuerAdvice(bundle: Bundle, root: LoadedTrustedRoot): string | undefined {
  const issuer = foreignIssuer(bundle, root);
  if (issuer === undefined) return undefined;
  return `the signing certificate was issued by "${issuer}", which is not a certificate authority of ${root.origin}; if it comes from another Sigstore instance (for example GitHub's, for private repositories), pass that instance's trusted root with --trusted-root`;
}

/** The root of a JSON Lines set whose CA issued the bundle's certificate (else the first). */
export function rootForBundle(bundle: Bundle, root: LoadedTrustedRoot): LoadedTrustedRoot {
  const choices = root.alternatives;
  if (choices === undefined || choices.length === 0) return root;
  return (
    choices.find(
      (choice) =>
        choice.root.certificateAuthorities.length > 0 && foreignIssuer(bundle, choice) === undefined,
    ) ??
    choices[0] ??
    root
  );
}
