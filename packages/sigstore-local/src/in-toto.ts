/** The DSSE payload type of in-toto statements. */
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export const IN_TOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1";

export interface InTotoSubject {
  name: string;
  digest: { sha256?: string; sha512?: string };
}

export interface InTotoStatement {
  _type: typeof IN_TOTO_STATEMENT_V1;
  subject: InTotoSubject[];
  predicateType: string;
  predicate: unknown;
}

/** An in-toto Statement v1 about `subjects`; sign its JSON with `signDsse(…, IN_TOTO_PAYLOAD_TYPE, …)`. */
export function inTotoStatement(
  subjects: { name: string; sha256?: string; sha512?: string }[],
  predicateType: string,
  predicate: unknown,
): InTotoStatement {
  if (subjects.length === 0) throw new TypeError("inTotoStatement: at least one subject is required");
  for (const s of subjects) {
    if (s.sha256 === undefined && s.sha512 === undefined) {
      throw new TypeError(`inTotoStatement: ${JSON.stringify(s.name)} needs a sha256 or sha512 digest`);
    }
    if (s.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(s.sha256)) {
      throw new TypeError(
        `inTotoStatement: ${JSON.stringify(s.name)} needs 64 lowercase hex digits, got ${JSON.stringify(s.sha256)}`,
      );
    }
    if (s.sha512 !== undefined && !/^[0-9a-f]{128}$/.test(s.sha512)) {
      throw new TypeError(
        `inTotoStatement: ${JSON.stringify(s.name)} needs 128 lowercase hex digits for sha512`,
      );
    }
  }
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: subjects.map((s) => ({
      name: s.name,
      digest: {
        ...(s.sha256 === undefined ? {} : { sha256: s.sha256 }),
        ...(s.sha512 === undefined ? {} : { sha512: s.sha512 }),
      },
    })),
    predicateType,
    predicate,
  };
}
