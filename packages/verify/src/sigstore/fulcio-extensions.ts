import { ASN1Obj, type X509Certificate } from "@sigstore/core";
import { VerifyError } from "../errors.js";

/**
 * The claims Fulcio copies from the OIDC token into the signing certificate
 * (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md). Fulcio attests these; a
 * workflow cannot forge them, so policies are built on them rather than on what a payload says.
 */
export interface FulcioExtensions {
  /** 1.3.6.1.4.1.57264.1.8, or the legacy .1 on certificates that predate it. */
  readonly issuer?: string;
  readonly buildSignerUri?: string;
  readonly buildSignerDigest?: string;
  readonly runnerEnvironment?: string;
  readonly sourceRepositoryUri?: string;
  readonly sourceRepositoryDigest?: string;
  readonly sourceRepositoryRef?: string;
  readonly sourceRepositoryIdentifier?: string;
  readonly sourceRepositoryOwnerUri?: string;
  readonly sourceRepositoryOwnerIdentifier?: string;
  readonly buildConfigUri?: string;
  readonly buildConfigDigest?: string;
  readonly buildTrigger?: string;
  readonly runInvocationUri?: string;
  readonly sourceRepositoryVisibilityAtSigning?: string;
  readonly deploymentEnvironment?: string;
  /** The deprecated GitHub-specific extensions (.2–.6), reported as found. */
  readonly githubWorkflowTrigger?: string;
  readonly githubWorkflowSha?: string;
  readonly githubWorkflowName?: string;
  readonly githubWorkflowRepository?: string;
  readonly githubWorkflowRef?: string;
}

type ExtensionName = keyof FulcioExtensions;

const FULCIO_ARC = "1.3.6.1.4.1.57264.1.";

/** Extensions whose value is the raw string (the first generation). */
const LEGACY: Readonly<Record<string, ExtensionName>> = {
  "1": "issuer",
  "2": "githubWorkflowTrigger",
  "3": "githubWorkflowSha",
  "4": "githubWorkflowName",
  "5": "githubWorkflowRepository",
  "6": "githubWorkflowRef",
};

/** Extensions whose value is a DER UTF8String. */
const DER_ENCODED: Readonly<Record<string, ExtensionName>> = {
  "8": "issuer",
  "9": "buildSignerUri",
  "10": "buildSignerDigest",
  "11": "runnerEnvironment",
  "12": "sourceRepositoryUri",
  "13": "sourceRepositoryDigest",
  "14": "sourceRepositoryRef",
  "15": "sourceRepositoryIdentifier",
  "16": "sourceRepositoryOwnerUri",
  "17": "sourceRepositoryOwnerIdentifier",
  "18": "buildConfigUri",
  "19": "buildConfigDigest",
  "20": "buildTrigger",
  "21": "runInvocationUri",
  "22": "sourceRepositoryVisibilityAtSigning",
  "23": "deploymentEnvironment",
};

const UTF8_STRING_TAG = 12;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads every Fulcio extension of a certificate. A malformed value, an extension present twice, or
 * a legacy issuer (.1) that disagrees with the current one (.8) is an error, not a silent choice.
 */
export function readFulcioExtensions(certificate: X509Certificate): FulcioExtensions {
  const found: Partial<Record<ExtensionName, string>> = {};
  let legacyIssuer: string | undefined;
  const seen = new Set<string>();
  for (const extension of certificate.extensions) {
    const oid = extension.subs[0]?.toOID() ?? "";
    if (seen.has(oid)) throw malformed(`the extension ${oid} appears twice`);
    seen.add(oid);
    if (!oid.startsWith(FULCIO_ARC)) continue;
    const arc = oid.slice(FULCIO_ARC.length);
    // extnValue, the last field (critical is optional): what certificate.extension(oid) would find,
    // since this is the first extension with this OID, without searching every extension again.
    const value = extension.subs.at(-1)?.value;
    if (value === undefined) continue;
    const legacyName = LEGACY[arc];
    const derName = DER_ENCODED[arc];
    if (legacyName === "issuer") legacyIssuer = decodeRaw(value, oid);
    else if (legacyName !== undefined) found[legacyName] = decodeRaw(value, oid);
    else if (derName !== undefined) found[derName] = decodeUtf8String(value, oid);
  }
  if (legacyIssuer !== undefined) {
    if (found.issuer !== undefined && found.issuer !== legacyIssuer) {
      throw malformed(
        `the issuer extensions disagree: ${JSON.stringify(found.issuer)} (.8) and ${JSON.stringify(legacyIssuer)} (.1)`,
      );
    }
    found.issuer = legacyIssuer;
  }
  return found;
}

function decodeRaw(value: Buffer, oid: string): string {
  try {
    return utf8.decode(value);
  } catch (cause) {
    throw malformed(`the extension ${oid} is not UTF-8`, cause);
  }
}

function decodeUtf8String(value: Buffer, oid: string): string {
  try {
    const parsed = ASN1Obj.parseBuffer(Buffer.from(value));
    if (parsed.tag.number !== UTF8_STRING_TAG || parsed.tag.constructed) throw new Error("not a UTF8String");
    return utf8.decode(parsed.value);
  } catch (cause) {
    throw malformed(`the extension ${oid} is not a DER UTF8String`, cause);
  }
}

function malformed(message: string, cause?: unknown): VerifyError {
  return new VerifyError("IC_SIGNATURE_CERTIFICATE", `the signing certificate is malformed: ${message}`, {
    cause,
  });
}
