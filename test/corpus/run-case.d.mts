/** One case of test/fixtures/real-world/corpus.json. */
export interface CorpusCase {
  readonly id: string;
  readonly mode: "signature" | "attestation";
  readonly bundle: string;
  readonly artifact: { file?: string; text?: string; digest?: string; digestFromBundle?: boolean } | null;
  readonly root: string | { base: string; timestampAuthorities: string };
  readonly policy: Record<string, unknown>;
  readonly expected: "verified" | "refused";
  readonly owner: string;
  readonly ownerTest: string;
  readonly covers: readonly string[];
  readonly difference?: string;
  readonly note?: string;
}

export interface Outcome {
  readonly verdict: "verified" | "refused";
  readonly detail: string;
}

export declare const REAL_WORLD: URL;
export declare function read(path: string): Buffer;
export declare function trustedRootDocument(
  root: CorpusCase["root"],
): Record<string, unknown> | Record<string, unknown>[] | undefined;
export declare function artifactInput(test: CorpusCase): { bytes?: Buffer; digest?: string } | undefined;
export declare function runCase(test: CorpusCase): Outcome;
