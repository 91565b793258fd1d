import { VerifyError } from "../errors.js";

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const IN_TOTO_STATEMENT_TYPES = [
  "https://in-toto.io/Statement/v1",
  "https://in-toto.io/Statement/v0.1",
] as const;

export interface InTotoSubject {
  readonly name: string;
  /** Algorithm name to lower-case hex, as the statement gives them. */
  readonly digest: Readonly<Record<string, string>>;
}

export interface InTotoStatement {
  readonly type: string;
  readonly subjects: readonly InTotoSubject[];
  readonly predicateType: string;
  readonly predicate: unknown;
}

/** Parses an in-toto Statement (v1, or v0.1 where found); anything else is refused with its reason. */
export function parseInTotoStatement(payload: Buffer): InTotoStatement {
  let document: unknown;
  try {
    document = JSON.parse(payload.toString("utf8"));
  } catch (cause) {
    throw invalid(`the payload is not JSON: ${(cause as Error).message}`, cause);
  }
  if (typeof document !== "object" || document === null || Array.isArray(document))
    throw invalid("the payload is not an object");
  const record = document as Record<string, unknown>;
  const type = record._type;
  if (typeof type !== "string" || !(IN_TOTO_STATEMENT_TYPES as readonly string[]).includes(type)) {
    throw invalid(
      `_type is ${JSON.stringify(type ?? null)}; expected ${IN_TOTO_STATEMENT_TYPES.join(" or ")}`,
    );
  }
  if (typeof record.predicateType !== "string" || record.predicateType.length === 0)
    throw invalid("predicateType is missing");
  if (!Array.isArray(record.subject) || record.subject.length === 0)
    throw invalid("the statement has no subjects");
  const subjects = record.subject.map((subject: unknown, index): InTotoSubject => {
    const entry = subject as { name?: unknown; digest?: unknown };
    if (
      typeof entry !== "object" ||
      entry === null ||
      typeof entry.digest !== "object" ||
      entry.digest === null
    ) {
      throw invalid(`subject[${index}] has no digest`);
    }
    const digest: Record<string, string> = {};
    for (const [algorithm, value] of Object.entries(entry.digest as Record<string, unknown>)) {
      if (typeof value !== "string" || !/^[0-9a-fA-F]+$/.test(value))
        throw invalid(`subject[${index}].digest.${algorithm} is not hex`);
      digest[algorithm] = value.toLowerCase();
    }
    return { name: typeof entry.name === "string" ? entry.name : "", digest };
  });
  return { type, subjects, predicateType: record.predicateType, predicate: record.predicate };
}

/** The subjects whose digest for `algorithm` equals the artifact's. */
export function subjectsMatching(
  statement: InTotoStatement,
  algorithm: string,
  digestHex: string,
): InTotoSubject[] {
  return statement.subjects.filter((subject) => subject.digest[algorithm] === digestHex.toLowerCase());
}

function invalid(message: string, cause?: unknown): VerifyError {
  return new VerifyError(
    "IC_ATTESTATION_STATEMENT_INVALID",
    `the DSSE payload is not a valid in-toto statement: ${message}`,
    { cause },
  );
}
