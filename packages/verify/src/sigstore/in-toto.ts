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
    const digest: Record<string, string> = Object.create(null);
    for (const [algorithm, value] of Object.entries(entry.digest as Record<string, unknown>)) {
      if (typeof value !== "string" || !/^[0-9a-fA-F]+$/.test(value))
        throw invalid(`subject[${index}].digest.${algorithm} is not hex`);
      digest[algorithm] = value.toLowerCase();
    }
    return { name: typeof entry.name === "string" ? entry.name : "", digest };
  });
  return { type, subjects, predicateType: record.predicateType, predicate: record.predicate };
}

/** The algorithms a subject is matched with; a subject that carries only weaker ones names nothing. */
export const SUBJECT_DIGEST_ALGORITHMS = ["sha256", "sha512"] as const;
export type SubjectDigestAlgorithm = (typeof SUBJECT_DIGEST_ALGORITHMS)[number];
export type ArtifactDigests = Readonly<Partial<Record<SubjectDigestAlgorithm, string>>>;

/**
 * A subject names the artifact when every accepted algorithm it carries, that the artifact's digest
 * is known in, agrees, and there is at least one. npm provenance carries only sha512, GitHub's
 * attestations sha256; a subject carrying both must agree on both.
 */
export function subjectMatches(subject: InTotoSubject, artifact: ArtifactDigests): boolean {
  let compared = 0;
  for (const algorithm of SUBJECT_DIGEST_ALGORITHMS) {
    const known = artifact[algorithm];
    if (known === undefined || !Object.hasOwn(subject.digest, algorithm)) continue;
    if (subject.digest[algorithm] !== known.toLowerCase()) return false;
    compared += 1;
  }
  return compared > 0;
}

/** The subjects that name the artifact (see subjectMatches). */
export function subjectsMatching(statement: InTotoStatement, artifact: ArtifactDigests): InTotoSubject[] {
  return statement.subjects.filter((subject) => subjectMatches(subject, artifact));
}

/** The digest algorithms the subjects carry, for a message that says why none matched. */
export function subjectAlgorithms(statement: InTotoStatement): string[] {
  const names = new Set<string>();
  for (const subject of statement.subjects) for (const name of Object.keys(subject.digest)) names.add(name);
  return [...names].sort();
}

function invalid(message: string, cause?: unknown): VerifyError {
  return new VerifyError(
    "IC_ATTESTATION_STATEMENT_INVALID",
    `the DSSE payload is not a valid in-toto statement: ${message}`,
    { cause },
  );
}
