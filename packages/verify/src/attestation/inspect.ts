import { isVerifyError } from "../errors.js";
import { IN_TOTO_PAYLOAD_TYPE, type InTotoSubject, parseInTotoStatement } from "../sigstore/in-toto.js";
import type { AttestationEntry } from "./container.js";
import { certificateFacts, describeSigner, type StatementSigner } from "./verify-attestations.js";

/** What one bundle holds, read but not judged: nothing here is verified. */
export interface InspectedBundle {
  readonly line: number;
  readonly mediaType: string;
  readonly content: "dsse" | "message-signature";
  readonly payloadType?: string;
  readonly statementType?: string;
  readonly predicateType?: string;
  readonly subjects?: readonly InTotoSubject[];
  /** Why the payload could not be read as an in-toto statement, when it could not. */
  readonly statementProblem?: string;
  readonly signer?: StatementSigner;
  readonly logEntries: readonly {
    readonly logIndex: string;
    readonly kind: string;
    readonly version: string;
    readonly integratedTime?: Date;
  }[];
  readonly timestampAuthorityStamps: number;
}

export function inspectAttestations(entries: readonly AttestationEntry[]): InspectedBundle[] {
  return entries.map(({ line, parsed }) => {
    const { bundle } = parsed;
    const facts = certificateFacts(parsed);
    const base = {
      line,
      mediaType: parsed.mediaType,
      logEntries: bundle.verificationMaterial.tlogEntries.map((entry) => {
        const seconds = Number(entry.integratedTime);
        return {
          logIndex: String(entry.logIndex),
          kind: entry.kindVersion?.kind ?? "",
          version: entry.kindVersion?.version ?? "",
          ...(seconds > 0 ? { integratedTime: new Date(seconds * 1000) } : {}),
        };
      }),
      timestampAuthorityStamps:
        bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length ?? 0,
      ...(facts === undefined
        ? {}
        : { signer: describeSigner(facts.subjectAlternativeName, facts.extensions) }),
    };
    if (bundle.content.$case !== "dsseEnvelope") return { ...base, content: "message-signature" as const };
    const envelope = bundle.content.dsseEnvelope;
    const dsse = { ...base, content: "dsse" as const, payloadType: envelope.payloadType };
    if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return dsse;
    try {
      const statement = parseInTotoStatement(Buffer.from(envelope.payload));
      return {
        ...dsse,
        statementType: statement.type,
        predicateType: statement.predicateType,
        subjects: statement.subjects,
      };
    } catch (error) {
      return { ...dsse, statementProblem: isVerifyError(error) ? error.message : String(error) };
    }
  });
}
