import { ASN1Obj, type X509Certificate } from "@sigstore/core";
import { VerifyError } from "../errors.js";

/** Fulcio's `username` identity (an otherName with a UTF8String), e.g. `foo!oidc.local`. */
export const FULCIO_USERNAME_OID = "1.3.6.1.4.1.57264.1.7";
const SUBJECT_ALT_NAME_OID = "2.5.29.17";
const OTHER_NAME = 0;
const RFC822_NAME = 1;
const URI = 6;
const UTF8_STRING_TAG = 12;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The certificate's identity, as Fulcio writes it in the SAN: a URI (workflows, SPIFFE), an email,
 * or an otherName of type Fulcio username. sigstore-js reads only the first two, so a username
 * certificate looked like one without identity.
 */
export function subjectAlternativeName(certificate: X509Certificate): string | undefined {
  const extension = certificate.extension(SUBJECT_ALT_NAME_OID);
  if (extension === undefined) return undefined;
  let names: ASN1Obj[];
  try {
    names = ASN1Obj.parseBuffer(Buffer.from(extension.value)).subs;
  } catch (cause) {
    throw malformed("its subject alternative name is not DER", cause);
  }
  const uri = names.find((name) => name.tag.isContextSpecific(URI));
  const email = names.find((name) => name.tag.isContextSpecific(RFC822_NAME));
  const chosen = uri ?? email;
  if (chosen !== undefined) return decode(chosen.value, "the subject alternative name");
  for (const name of names) {
    if (!name.tag.isContextSpecific(OTHER_NAME)) continue;
    const [type, wrapped] = name.subs;
    if (type === undefined || type.toOID() !== FULCIO_USERNAME_OID) continue;
    const value = wrapped?.subs[0];
    if (value === undefined || value.tag.number !== UTF8_STRING_TAG || value.tag.constructed) {
      throw malformed("its username otherName is not a UTF8String");
    }
    return decode(value.value, "its username otherName");
  }
  return undefined;
}

function decode(bytes: Buffer, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw malformed(`${what} is not UTF-8`, cause);
  }
}

function malformed(message: string, cause?: unknown): VerifyError {
  return new VerifyError("IC_SIGNATURE_CERTIFICATE", `the signing certificate is malformed: ${message}`, {
    cause,
  });
}
