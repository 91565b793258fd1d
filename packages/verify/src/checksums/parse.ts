import { VerifyError } from "../errors.js";
import { assertSafeName } from "./names.js";
import type { ChecksumEntry, ChecksumLineForm, ChecksumList } from "./types.js";

/** A SHA256SUMS larger than this is refused before it is read into memory. */
export const MAX_CHECKSUMS_BYTES = 16 * 1024 * 1024;

const SHA256_HEX_LENGTH = 64;
const HEX = /^[0-9a-fA-F]+$/;
const BSD_SHA256 = /^SHA256 \((.*)\) = (.*)$/s;
/** Any other BSD tag: `MD5 (`, `SHA512 (`, `SHA2-256(` (OpenSSL), `BLAKE2b-256 (`… */
const BSD_OTHER_TAG = /^([A-Za-z][A-Za-z0-9-]*) ?\(/;
const LF = 0x0a;

const KNOWN_DIGEST_LENGTHS: Readonly<Record<number, string>> = {
  32: "MD5",
  40: "SHA-1",
  56: "SHA-224",
  96: "SHA-384",
  128: "SHA-512",
};

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses a SHA256SUMS document strictly. Accepted lines:
 *   `<64 hex>  <name>` (GNU text mode), `<64 hex> *<name>` (GNU binary mode),
 *   `SHA256 (<name>) = <64 hex>` (BSD), each optionally in coreutils' escaped form (leading `\`),
 *   ended by LF or CRLF, hex in either case.
 * Anything else is a VerifyError with the line number.
 */
export function parseChecksums(document: Uint8Array): ChecksumList {
  if (document.length === 0) {
    throw new VerifyError(
      "IC_CHECKSUMS_EMPTY",
      "the checksums file is empty; expected at least one line '<sha256 hex>  <file name>'",
    );
  }
  if (document.length > MAX_CHECKSUMS_BYTES) {
    throw new VerifyError(
      "IC_CHECKSUMS_TOO_LARGE",
      `the checksums file is ${document.length} bytes; the limit is ${MAX_CHECKSUMS_BYTES} bytes`,
    );
  }

  const entries: ChecksumEntry[] = [];
  const byName = new Map<string, ChecksumEntry>();
  const lines = splitLines(document);
  for (const [index, raw] of lines.entries()) {
    const lineNumber = index + 1;
    const entry = parseLine(decodeLine(raw, lineNumber), lineNumber);
    const earlier = byName.get(entry.name);
    if (earlier !== undefined) {
      throw new VerifyError(
        "IC_CHECKSUMS_DUPLICATE_NAME",
        `${JSON.stringify(entry.name)} is already listed on line ${earlier.line}; each file must be listed once`,
        { line: lineNumber },
      );
    }
    entries.push(entry);
    byName.set(entry.name, entry);
  }
  return { entries, byName };
}

/** Splits on LF; a final LF ends the last line rather than starting an empty one. */
function splitLines(document: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let end = document.indexOf(LF); end !== -1; end = document.indexOf(LF, start)) {
    lines.push(document.subarray(start, end));
    start = end + 1;
  }
  if (start < document.length) lines.push(document.subarray(start));
  return lines;
}

function decodeLine(raw: Uint8Array, line: number): string {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch (cause) {
    throw new VerifyError("IC_CHECKSUMS_BAD_ENCODING", "the line is not valid UTF-8", {
      line,
      cause,
    });
  }
  return text.endsWith("\r") ? text.slice(0, -1) : text;
}

function parseLine(text: string, line: number): ChecksumEntry {
  if (text.length === 0) {
    throw new VerifyError(
      "IC_CHECKSUMS_MALFORMED_LINE",
      "the line is blank; expected '<sha256 hex>  <file name>'",
      { line },
    );
  }
  const escaped = text.startsWith("\\");
  const body = escaped ? text.slice(1) : text;

  const bsd = BSD_SHA256.exec(body);
  if (bsd !== null) {
    const digest = bsd[2] ?? "";
    checkDigest(digest, line);
    return makeEntry(bsd[1] ?? "", digest, "bsd", escaped, line);
  }
  const tag = BSD_OTHER_TAG.exec(body)?.[1];
  if (tag === "SHA256") {
    throw new VerifyError(
      "IC_CHECKSUMS_MALFORMED_LINE",
      "expected a BSD line of the form 'SHA256 (<file name>) = <hex>'",
      { line },
    );
  }
  if (tag !== undefined && !HEX.test(tag)) {
    throw new VerifyError(
      "IC_CHECKSUMS_UNSUPPORTED_ALGORITHM",
      `the line is a ${tag} checksum; only 'SHA256 (<file name>) = <hex>' is accepted`,
      { line },
    );
  }
  return parseGnuLine(body, escaped, line);
}

function parseGnuLine(body: string, escaped: boolean, line: number): ChecksumEntry {
  const space = body.indexOf(" ");
  const digest = space === -1 ? body : body.slice(0, space);
  checkDigest(digest, line);
  const marker = body[space + 1];
  if (space === -1 || (marker !== " " && marker !== "*")) {
    throw new VerifyError(
      "IC_CHECKSUMS_MALFORMED_LINE",
      "expected two spaces (text mode) or a space and '*' (binary mode) between the digest and the file name",
      { line },
    );
  }
  const form: ChecksumLineForm = marker === "*" ? "gnu-binary" : "gnu-text";
  return makeEntry(body.slice(space + 2), digest, form, escaped, line);
}

function makeEntry(
  rawName: string,
  digest: string,
  form: ChecksumLineForm,
  escaped: boolean,
  line: number,
): ChecksumEntry {
  const name = escaped ? unescapeName(rawName, line) : rawName;
  assertSafeName(name, line);
  return { name, sha256: digest.toLowerCase(), line, form };
}

function checkDigest(digest: string, line: number): void {
  if (!HEX.test(digest)) {
    throw new VerifyError(
      "IC_CHECKSUMS_MALFORMED_LINE",
      `expected a hexadecimal SHA-256 digest, found ${JSON.stringify(digest.slice(0, 80))}`,
      { line },
    );
  }
  if (digest.length !== SHA256_HEX_LENGTH) {
    const likely = KNOWN_DIGEST_LENGTHS[digest.length];
    throw new VerifyError(
      "IC_CHECKSUMS_DIGEST_LENGTH",
      `the digest has ${digest.length} hex digits; SHA-256 has ${SHA256_HEX_LENGTH}${likely === undefined ? "" : ` (${digest.length} is the length of ${likely})`}`,
      { line },
    );
  }
}

/** Decodes coreutils' escaped-name form: `\\` is a backslash, `\n` a newline, `\r` a carriage return. */
function unescapeName(raw: string, line: number): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = raw[++i];
    if (next === "\\") out += "\\";
    else if (next === "n") out += "\n";
    else if (next === "r") out += "\r";
    else {
      throw new VerifyError(
        "IC_CHECKSUMS_BAD_ESCAPE",
        next === undefined
          ? "the escaped file name ends with a lone backslash"
          : `the escaped file name has an unknown escape '\\${next}'; coreutils writes only \\\\, \\n and \\r`,
        { line },
      );
    }
  }
  return out;
}
