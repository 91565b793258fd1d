import { posix } from "node:path";
import {
  assertSafeName,
  formatChecksums,
  parseChecksums,
  VERIFY_ERROR_CODES,
  VerifyError,
} from "@ironclaw/verify";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const RUNS = 2_000;

/** Parses, and if it throws, demands the throw be a typed error with a known code. */
function parseOrTypedError(bytes: Uint8Array): ReturnType<typeof parseChecksums> | VerifyError {
  try {
    return parseChecksums(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(VerifyError);
    expect(VERIFY_ERROR_CODES).toContain((error as VerifyError).code);
    return error as VerifyError;
  }
}

/** Pieces that put random documents near the grammar, where parsers break. */
const fragment = fc.constantFrom(
  "a".repeat(64),
  "F".repeat(64),
  "0".repeat(63),
  " ",
  "  ",
  " *",
  "*",
  "\\",
  "\\n",
  "\\\\",
  "\n",
  "\r\n",
  "\r",
  "SHA256 (",
  ") = ",
  "MD5 (",
  "/",
  "..",
  ".",
  "name",
  "é",
  "\u0000",
  "\u202e",
  "\ufeff",
);

const grammarNoise = fc
  .array(fragment, { maxLength: 40 })
  .map((parts) => Buffer.from(parts.join(""), "utf8"));

/** Line-shaped documents: a digest, a separator, then a name built from the same pieces. */
const lineShaped = fc
  .array(
    fc
      .tuple(
        fc.constantFrom("", "\\"),
        fc.constantFrom("a".repeat(64), "F".repeat(64)),
        fc.constantFrom("  ", " *"),
        fc.array(fragment, { minLength: 1, maxLength: 6 }),
      )
      .map(([escapeMark, hex, separator, name]) => `${escapeMark}${hex}${separator}${name.join("")}`),
    { minLength: 1, maxLength: 5 },
  )
  .map((lines) => Buffer.from(`${lines.join("\n")}\n`, "utf8"));

describe("parseChecksums on arbitrary input", () => {
  it("returns a list or throws a typed error for random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        parseOrTypedError(bytes);
      }),
      { numRuns: RUNS },
    );
  });

  it("returns a list or throws a typed error for near-grammatical documents", () => {
    fc.assert(
      fc.property(fc.oneof(grammarNoise, lineShaped), (bytes) => {
        parseOrTypedError(bytes);
      }),
      { numRuns: RUNS },
    );
  });

  it("only ever yields safe, canonical, relative names and 64-digit lower-case digests", () => {
    fc.assert(
      fc.property(fc.oneof(grammarNoise, lineShaped), (bytes) => {
        const result = parseOrTypedError(bytes);
        if (result instanceof VerifyError) return;
        for (const entry of result.entries) {
          expect(() => assertSafeName(entry.name)).not.toThrow();
          expect(posix.isAbsolute(entry.name)).toBe(false);
          expect(posix.normalize(entry.name)).toBe(entry.name);
          expect(entry.name.split("/")).not.toContain("..");
          expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

const segment = fc
  .string({ unit: fc.constantFrom(..."abcXYZ019-_.+ ~()*é日".split("")), minLength: 1, maxLength: 12 })
  .filter((text) => text !== "." && text !== ".." && !/^[A-Za-z]:/.test(text));
const safeName = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"));
const digest = fc.stringMatching(/^[0-9a-f]{64}$/);

describe("formatChecksums", () => {
  it("writes documents that parse back to the same names and digests", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ name: safeName, sha256: digest }), {
          minLength: 1,
          maxLength: 20,
          selector: (f) => f.name,
        }),
        (files) => {
          const parsed = parseChecksums(Buffer.from(formatChecksums(files)));
          const byName = new Map(files.map((file) => [file.name, file.sha256]));
          expect(parsed.entries).toHaveLength(files.length);
          for (const entry of parsed.entries) {
            expect(entry.form).toBe("gnu-text");
            expect(byName.get(entry.name)).toBe(entry.sha256);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
