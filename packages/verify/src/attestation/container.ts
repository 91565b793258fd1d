import { VerifyError } from "../errors.js";
import { type ParsedBundle, parseBundleDocument } from "../sigstore/bundle-document.js";

/** One bundle of an attestation file, with the line it came from (1 for a single-bundle file). */
export interface AttestationEntry {
  readonly line: number;
  readonly parsed: ParsedBundle;
}

/**
 * Reads a single Sigstore bundle (JSON, pretty-printed or not) or JSON Lines of bundles, as
 * `gh attestation download` and our releases write them. Any line that is not a bundle refuses
 * the whole file with its line number: a file that is partly unreadable is not partly trusted.
 */
export function parseAttestationFile(bytes: Uint8Array, label = "the attestation file"): AttestationEntry[] {
  const text = Buffer.from(bytes).toString("utf8");
  if (text.trim().length === 0) {
    throw new VerifyError(
      "IC_ATTESTATION_EMPTY",
      `${label} is empty; expected a Sigstore bundle or JSON Lines of bundles`,
    );
  }
  if (isSingleJsonDocument(text)) return [{ line: 1, parsed: parseBundleDocument(bytes, label) }];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((content, index) => {
    const line = index + 1;
    const body = content.endsWith("\r") ? content.slice(0, -1) : content;
    if (body.trim().length === 0) {
      throw new VerifyError(
        "IC_BUNDLE_MALFORMED_JSON",
        `${label} has a blank line; each line must be one bundle`,
        { line },
      );
    }
    try {
      return { line, parsed: parseBundleDocument(Buffer.from(body, "utf8"), label) };
    } catch (error) {
      if (error instanceof VerifyError)
        throw new VerifyError(error.code, error.message, { line, cause: error });
      throw error;
    }
  });
}

function isSingleJsonDocument(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
