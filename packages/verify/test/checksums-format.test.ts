import { compareNames, formatChecksums, VerifyError } from "@ironclaw/verify";
import { describe, expect, it } from "vitest";

const A = "a".repeat(64);
const B = "B".repeat(64);

describe("formatChecksums", () => {
  it("writes two spaces, LF endings, lower-case hex, sorted by name bytes", () => {
    const text = formatChecksums([
      { name: "b.tar.gz", sha256: A },
      { name: "B.zip", sha256: B },
      { name: "a.tar.gz", sha256: A },
      { name: "é.txt", sha256: A },
    ]);
    expect(text).toBe(`${"b".repeat(64)}  B.zip\n${A}  a.tar.gz\n${A}  b.tar.gz\n${A}  é.txt\n`);
  });

  it("orders by UTF-8 bytes, not by locale or UTF-16 units", () => {
    // U+FF21 (3 UTF-8 bytes, EF BC A1) sorts after U+1F600 (4 bytes, F0 9F 98 80) in UTF-16 but not in UTF-8.
    expect(compareNames("\uff21", "\u{1f600}")).toBeLessThan(0);
    expect("\uff21" < "\u{1f600}").toBe(false);
  });

  it.each([
    ["an unsafe name", [{ name: "../x", sha256: A }], "IC_CHECKSUMS_NAME_TRAVERSAL"],
    ["a non-canonical name", [{ name: "./x", sha256: A }], "IC_CHECKSUMS_NAME_NOT_CANONICAL"],
    ["a short digest", [{ name: "x", sha256: "ab" }], "IC_CHECKSUMS_DIGEST_LENGTH"],
    [
      "a name given twice",
      [
        { name: "x", sha256: A },
        { name: "x", sha256: B },
      ],
      "IC_CHECKSUMS_DUPLICATE_NAME",
    ],
    ["no files", [], "IC_CHECKSUMS_EMPTY"],
  ])("refuses %s", (_label, files, code) => {
    expect(() => formatChecksums(files)).toThrow(VerifyError);
    try {
      formatChecksums(files);
    } catch (error) {
      expect((error as VerifyError).code).toBe(code);
    }
  });
});
