import { VerifyError } from "../errors.js";

/** Longest name accepted, in UTF-8 bytes: Linux's PATH_MAX. */
export const MAX_NAME_BYTES = 4096;

/**
 * C0 controls (NUL, LF, CR, ESC, …), DEL, C1 controls, and the Unicode bidirectional formatting
 * characters that can make a printed name read differently from the bytes it holds.
 */
const UNSAFE_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

const DRIVE_PREFIX = /^[A-Za-z]:/;

function describeCodePoint(text: string): string {
  const codePoint = text.codePointAt(0) ?? 0;
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * A name in SHA256SUMS is a relative path in one canonical spelling, so that one file cannot be
 * listed twice under two spellings and no name can reach outside the release directory.
 * Throws a VerifyError naming the first rule the name breaks.
 */
export function assertSafeName(name: string, line?: number): void {
  const at = line === undefined ? {} : { line };
  if (name.length === 0) {
    throw new VerifyError("IC_CHECKSUMS_NAME_EMPTY", "the file name is empty", at);
  }
  if (Buffer.byteLength(name, "utf8") > MAX_NAME_BYTES) {
    throw new VerifyError(
      "IC_CHECKSUMS_NAME_TOO_LONG",
      `the file name is longer than ${MAX_NAME_BYTES} bytes`,
      at,
    );
  }
  const unsafe = UNSAFE_CHARACTER.exec(name);
  if (unsafe !== null) {
    throw new VerifyError(
      "IC_CHECKSUMS_NAME_CONTROL_CHAR",
      `the file name contains the control character ${describeCodePoint(unsafe[0])} at position ${unsafe.index}; names must be printable`,
      at,
    );
  }
  if (name.includes("\\")) {
    throw new VerifyError(
      "IC_CHECKSUMS_NAME_BACKSLASH",
      `the file name ${JSON.stringify(name)} contains a backslash; use '/' between directories`,
      at,
    );
  }
  if (name.startsWith("/") || DRIVE_PREFIX.test(name)) {
    throw new VerifyError(
      "IC_CHECKSUMS_NAME_ABSOLUTE",
      `the file name ${JSON.stringify(name)} is absolute; names must be relative to the release directory`,
      at,
    );
  }
  const segments = name.split("/");
  if (segments.includes("..")) {
    throw new VerifyError(
      "IC_CHECKSUMS_NAME_TRAVERSAL",
      `the file name ${JSON.stringify(name)} has a '..' segment; names must stay inside the release directory`,
      at,
    );
  }
  if (segments.some((segment) => segment === "" || segment === ".")) {
    throw new VerifyError(
      "IC_CHECKSUMS_NAME_NOT_CANONICAL",
      `the file name ${JSON.stringify(name)} has an empty or '.' segment; write it as ${JSON.stringify(canonicalSpelling(segments))}`,
      at,
    );
  }
}

function canonicalSpelling(segments: readonly string[]): string {
  return segments.filter((segment) => segment !== "" && segment !== ".").join("/");
}
