import { parseChecksums, VerifyError, type VerifyErrorCode } from "@ironclaw/verify";
import { describe, expect, it } from "vitest";

const A = "a".repeat(64);
const B = "0123456789abcdef".repeat(4);
const B_UPPER = B.toUpperCase();

function parse(text: string | Uint8Array) {
  return parseChecksums(typeof text === "string" ? Buffer.from(text, "utf8") : text);
}

function rejection(text: string | Uint8Array): VerifyError {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(VerifyError);
    return error as VerifyError;
  }
  throw new Error("expected the document to be rejected");
}

function expectRejected(text: string | Uint8Array, code: VerifyErrorCode, line?: number): VerifyError {
  const error = rejection(text);
  expect(error.code).toBe(code);
  expect(error.line).toBe(line);
  if (line !== undefined) expect(error.message).toMatch(new RegExp(`^line ${line}: `));
  return error;
}

describe("parseChecksums accepts", () => {
  it("GNU text mode lines", () => {
    const list = parse(`${A}  ironclaw_1.0.0_linux_amd64.tar.gz\n${B}  ironclaw_1.0.0_node.tar.gz\n`);
    expect(list.entries).toEqual([
      { name: "ironclaw_1.0.0_linux_amd64.tar.gz", sha256: A, line: 1, form: "gnu-text" },
      { name: "ironclaw_1.0.0_node.tar.gz", sha256: B, line: 2, form: "gnu-text" },
    ]);
  });

  it("GNU binary mode lines", () => {
    expect(parse(`${A} *app.zip\n`).entries).toEqual([
      { name: "app.zip", sha256: A, line: 1, form: "gnu-binary" },
    ]);
  });

  it("BSD tagged lines", () => {
    expect(parse(`SHA256 (app.tar.gz) = ${B}\n`).entries).toEqual([
      { name: "app.tar.gz", sha256: B, line: 1, form: "bsd" },
    ]);
  });

  it("a BSD name holding ') = ', split at the last one like coreutils", () => {
    expect(parse(`SHA256 (odd) = name) = ${A}\n`).entries[0]?.name).toBe("odd) = name");
  });

  it("CRLF line endings, and a mix of CRLF and LF", () => {
    const list = parse(`${A}  one\r\n${B}  two\r\nSHA256 (three) = ${A}\n`);
    expect(list.entries.map((entry) => entry.name)).toEqual(["one", "two", "three"]);
  });

  it("upper-case hex, normalised to lower case", () => {
    expect(parse(`${B_UPPER}  up\nSHA256 (bsd-up) = ${B_UPPER}\n`).entries.map((e) => e.sha256)).toEqual([
      B,
      B,
    ]);
  });

  it("a last line without a newline", () => {
    expect(parse(`${A}  one\n${B}  two`).entries).toHaveLength(2);
  });

  it("names with spaces, leading spaces and stars kept byte for byte", () => {
    const list = parse(`${A}  with space.txt\n${A}   leading\n${A} **star\n`);
    expect(list.entries.map((entry) => entry.name)).toEqual(["with space.txt", " leading", "*star"]);
  });

  it("relative paths with directories, and non-ASCII names", () => {
    const list = parse(`${A}  dist/linux/ironclaw\n${B}  résumé-日本.txt\n`);
    expect(list.entries.map((entry) => entry.name)).toEqual(["dist/linux/ironclaw", "résumé-日本.txt"]);
  });

  it("coreutils' escaped form when it decodes to an acceptable name", () => {
    expect(parse(`\\${A}  plain\n\\SHA256 (bsd) = ${B}\n`).entries.map((e) => e.name)).toEqual([
      "plain",
      "bsd",
    ]);
  });
});

describe("parseChecksums matches exactly", () => {
  const list = parse(`${A}  foo.tar.gz.bak\n${B}  dir/foo.tar.gz\n`);

  it("never matches a prefix, a suffix or a path ending", () => {
    expect(list.byName.get("foo.tar.gz")).toBeUndefined();
    expect(list.byName.get("foo.tar")).toBeUndefined();
    expect(list.byName.get("oo.tar.gz.bak")).toBeUndefined();
    expect(list.byName.get("FOO.TAR.GZ.BAK")).toBeUndefined();
    expect(list.byName.get("foo.tar.gz.bak")?.sha256).toBe(A);
    expect(list.byName.get("dir/foo.tar.gz")?.sha256).toBe(B);
  });
});

describe("parseChecksums rejects", () => {
  it("an empty file", () => {
    expectRejected("", "IC_CHECKSUMS_EMPTY");
  });

  it("a blank line, with its number", () => {
    expectRejected(`${A}  one\n\n${B}  two\n`, "IC_CHECKSUMS_MALFORMED_LINE", 2);
    expectRejected("\n", "IC_CHECKSUMS_MALFORMED_LINE", 1);
    expectRejected("\r\n", "IC_CHECKSUMS_MALFORMED_LINE", 1);
  });

  it.each([
    ["a single space between digest and name", `${A} name`],
    ["a tab between digest and name", `${A}\tname`],
    ["no name at all", `${A}`],
    ["a comment", "# SHA256SUMS for ironclaw"],
    ["non-hex digits", `${"g".repeat(64)}  name`],
    ["leading whitespace", ` ${A}  name`],
    ["a BSD line without its spaces", `SHA256(name)= ${A}`],
    ["a BSD line with trailing junk", `SHA256 (name) = ${A} trailing`],
    ["a byte-order mark", `\ufeff${A}  name`],
  ])("a malformed line: %s", (_label, line) => {
    const error = expectRejected(`${B}  first\n${line}\n`, "IC_CHECKSUMS_MALFORMED_LINE", 2);
    expect(error.message.length).toBeGreaterThan(20);
  });

  it.each([
    ["MD5", `MD5 (name) = ${"a".repeat(32)}`],
    ["SHA512", `SHA512 (name) = ${"a".repeat(128)}`],
    ["SHA2-256", `SHA2-256(name)= ${A}`],
    ["BLAKE2b", `BLAKE2b (name) = ${"a".repeat(128)}`],
  ])("another algorithm's BSD line: %s", (algorithm, line) => {
    const error = expectRejected(line, "IC_CHECKSUMS_UNSUPPORTED_ALGORITHM", 1);
    expect(error.message).toContain(algorithm);
  });

  it.each([
    [32, "MD5"],
    [40, "SHA-1"],
    [63, undefined],
    [65, undefined],
    [128, "SHA-512"],
  ])("a digest of %i hex digits", (length, algorithm) => {
    const error = expectRejected(`${"b".repeat(length)}  name\n`, "IC_CHECKSUMS_DIGEST_LENGTH", 1);
    expect(error.message).toContain(`${length} hex digits`);
    if (algorithm !== undefined) expect(error.message).toContain(algorithm);
    expectRejected(`SHA256 (name) = ${"b".repeat(length)}\n`, "IC_CHECKSUMS_DIGEST_LENGTH", 1);
  });

  it("a line with a digest and a separator but no name", () => {
    expectRejected(`${A}  \n`, "IC_CHECKSUMS_NAME_EMPTY", 1);
    expectRejected(`${A} *\n`, "IC_CHECKSUMS_NAME_EMPTY", 1);
    expectRejected(`SHA256 () = ${A}\n`, "IC_CHECKSUMS_NAME_EMPTY", 1);
  });

  it("a name listed twice, naming both lines", () => {
    const error = expectRejected(`${A}  x\n${B}  y\n${B}  x\n`, "IC_CHECKSUMS_DUPLICATE_NAME", 3);
    expect(error.message).toContain("line 1");
  });

  it("a name listed twice in different forms", () => {
    expectRejected(`${A}  x\nSHA256 (x) = ${A}\n`, "IC_CHECKSUMS_DUPLICATE_NAME", 2);
    expectRejected(`${A} *x\n${A}  x\n`, "IC_CHECKSUMS_DUPLICATE_NAME", 2);
  });

  it.each([
    ["/etc/passwd", "IC_CHECKSUMS_NAME_ABSOLUTE"],
    ["/", "IC_CHECKSUMS_NAME_ABSOLUTE"],
    ["C:/Windows/evil.exe", "IC_CHECKSUMS_NAME_ABSOLUTE"],
    ["c:evil.exe", "IC_CHECKSUMS_NAME_ABSOLUTE"],
    ["..", "IC_CHECKSUMS_NAME_TRAVERSAL"],
    ["../outside", "IC_CHECKSUMS_NAME_TRAVERSAL"],
    ["dir/../../outside", "IC_CHECKSUMS_NAME_TRAVERSAL"],
    ["dir/..", "IC_CHECKSUMS_NAME_TRAVERSAL"],
    ["dir\\file", "IC_CHECKSUMS_NAME_BACKSLASH"],
    ["..\\outside", "IC_CHECKSUMS_NAME_BACKSLASH"],
    ["./file", "IC_CHECKSUMS_NAME_NOT_CANONICAL"],
    ["dir//file", "IC_CHECKSUMS_NAME_NOT_CANONICAL"],
    ["dir/./file", "IC_CHECKSUMS_NAME_NOT_CANONICAL"],
    ["dir/", "IC_CHECKSUMS_NAME_NOT_CANONICAL"],
    [".", "IC_CHECKSUMS_NAME_NOT_CANONICAL"],
    ["nul\u0000byte", "IC_CHECKSUMS_NAME_CONTROL_CHAR"],
    ["tab\there", "IC_CHECKSUMS_NAME_CONTROL_CHAR"],
    ["escape\u001b[31mred", "IC_CHECKSUMS_NAME_CONTROL_CHAR"],
    ["delete\u007f", "IC_CHECKSUMS_NAME_CONTROL_CHAR"],
    ["c1\u0085control", "IC_CHECKSUMS_NAME_CONTROL_CHAR"],
    ["bidi\u202egnp.exe", "IC_CHECKSUMS_NAME_CONTROL_CHAR"],
    ["isolate\u2066x", "IC_CHECKSUMS_NAME_CONTROL_CHAR"],
    ["cr\rinside", "IC_CHECKSUMS_NAME_CONTROL_CHAR"],
    [`long/${"x".repeat(4096)}`, "IC_CHECKSUMS_NAME_TOO_LONG"],
  ] as const)("the name %j (%s), in every line form", (name, code) => {
    expectRejected(`${B}  ok\n${A}  ${name}\n`, code, 2);
    expectRejected(`${B}  ok\n${A} *${name}\n`, code, 2);
    expectRejected(`${B}  ok\nSHA256 (${name}) = ${A}\n`, code, 2);
  });

  it("a carriage return that is not part of the line ending", () => {
    // The CRLF ending is stripped once; a second CR belongs to the name.
    expectRejected(`${A}  name\r\r\n`, "IC_CHECKSUMS_NAME_CONTROL_CHAR", 1);
  });

  it("invalid UTF-8, with the line it is on", () => {
    const bytes = Buffer.concat([
      Buffer.from(`${A}  fine\n${B}  bad`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from("\n"),
    ]);
    expectRejected(bytes, "IC_CHECKSUMS_BAD_ENCODING", 2);
    expectRejected(Buffer.from([0xc3, 0x28]), "IC_CHECKSUMS_BAD_ENCODING", 1);
  });
});

describe("coreutils' escaped-name form", () => {
  it("decodes \\\\ to a backslash, which a name may not hold", () => {
    const error = expectRejected(`\\${A}  back\\\\slash\n`, "IC_CHECKSUMS_NAME_BACKSLASH", 1);
    expect(error.message).toContain(JSON.stringify("back\\slash"));
  });

  it("decodes \\n to a newline, which a name may not hold", () => {
    const error = expectRejected(`\\${A}  new\\nline\n`, "IC_CHECKSUMS_NAME_CONTROL_CHAR", 1);
    expect(error.message).toContain("U+000A");
  });

  it("decodes \\r to a carriage return, which a name may not hold", () => {
    const error = expectRejected(`\\SHA256 (car\\rriage) = ${A}\n`, "IC_CHECKSUMS_NAME_CONTROL_CHAR", 1);
    expect(error.message).toContain("U+000D");
  });

  it("rejects escapes coreutils never writes, and a lone trailing backslash", () => {
    expectRejected(`\\${A}  bad\\tescape\n`, "IC_CHECKSUMS_BAD_ESCAPE", 1);
    expectRejected(`\\${A}  bad\\x41\n`, "IC_CHECKSUMS_BAD_ESCAPE", 1);
    expectRejected(`\\${A}  trailing\\\n`, "IC_CHECKSUMS_BAD_ESCAPE", 1);
  });

  it("does not decode escapes in an unescaped line: the backslash stays and is refused", () => {
    expectRejected(`${A}  new\\nline\n`, "IC_CHECKSUMS_NAME_BACKSLASH", 1);
  });
});

describe("parseChecksums limits", () => {
  it("refuses a document over 16 MiB before parsing it", () => {
    const big = Buffer.alloc(16 * 1024 * 1024 + 1, 0x61);
    expectRejected(big, "IC_CHECKSUMS_TOO_LARGE");
  });
});
