import { VerifyError } from "../errors.js";
import { assertSafeName } from "./names.js";

export interface NamedDigest {
  readonly name: string;
  readonly sha256: string;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** Orders names by their UTF-8 bytes, so the order never depends on a locale. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * Writes the canonical SHA256SUMS: one `<lower-case hex>  <name>` line per file, sorted by name,
 * LF endings. Every name must pass the same rules the parser applies, so what this writes always
 * parses back to the same entries.
 */
export function formatChecksums(files: readonly NamedDigest[]): string {
  if (files.length === 0) {
    throw new VerifyError("IC_CHECKSUMS_EMPTY", "no files to list; give at least one file");
  }
  const seen = new Set<string>();
  for (const file of files) {
    assertSafeName(file.name);
    if (!SHA256_HEX.test(file.sha256)) {
      throw new VerifyError(
        "IC_CHECKSUMS_DIGEST_LENGTH",
        `the digest for ${JSON.stringify(file.name)} is not 64 hex digits`,
      );
    }
    if (seen.has(file.name)) {
      throw new VerifyError(
        "IC_CHECKSUMS_DUPLICATE_NAME",
        `${JSON.stringify(file.name)} is given twice; each file must be listed once`,
      );
    }
    seen.add(file.name);
  }
  return [...files]
    .sort((a, b) => compareNames(a.name, b.name))
    .map((file) => `${file.sha256.toLowerCase()}  ${file.name}\n`)
    .join("");
}
