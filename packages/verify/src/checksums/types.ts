/** How a line was written: GNU text mode, GNU binary mode (`*name`), or a BSD tagged line. */
export type ChecksumLineForm = "gnu-text" | "gnu-binary" | "bsd";

export interface ChecksumEntry {
  /** The file name exactly as listed (after decoding coreutils escapes). */
  readonly name: string;
  /** Lower-case hex SHA-256. */
  readonly sha256: string;
  /** 1-based line number in the document. */
  readonly line: number;
  readonly form: ChecksumLineForm;
}

export interface ChecksumList {
  /** Entries in document order. */
  readonly entries: readonly ChecksumEntry[];
  /** Exact-name lookup: no normalisation, no prefix or suffix matching. */
  readonly byName: ReadonlyMap<string, ChecksumEntry>;
}
