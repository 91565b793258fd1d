import { type InTotoSubject, subjectMatches } from "@ironclaw/verify";
import { describe, expect, it } from "vitest";
import { realStatement } from "../real-world/fixtures.js";

const A256 = "a".repeat(64);
const A512 = "b".repeat(128);
const subject = (digest: Record<string, string>): InTotoSubject => ({ name: "x", digest });

describe("subjects are matched in the algorithms they carry", () => {
  it("matches a real npm provenance subject (sha512 only) by sha512, whatever sha256 the file has", () => {
    const { statement } = realStatement("gh-cli/sigstore-js-2.1.0-bundle.json");
    const [npm] = statement.subjects;
    if (npm === undefined) throw new Error("no subject");
    expect(Object.keys(npm.digest)).toEqual(["sha512"]);
    const sha512 = npm.digest.sha512 ?? "";
    expect(subjectMatches(npm, { sha256: A256, sha512 })).toBe(true);
    expect(subjectMatches(npm, { sha256: A256, sha512: sha512.toUpperCase() })).toBe(true);
    expect(subjectMatches(npm, { sha256: A256, sha512: A512 })).toBe(false);
    // Only a sha256 is known: nothing to compare, so no match rather than a guess.
    expect(subjectMatches(npm, { sha256: A256 })).toBe(false);
  });

  it("demands agreement on every accepted algorithm a subject carries", () => {
    expect(subjectMatches(subject({ sha256: A256, sha512: A512 }), { sha256: A256, sha512: A512 })).toBe(
      true,
    );
    expect(
      subjectMatches(subject({ sha256: A256, sha512: "c".repeat(128) }), { sha256: A256, sha512: A512 }),
    ).toBe(false);
    expect(subjectMatches(subject({ sha256: A256, sha512: A512 }), { sha512: A512 })).toBe(true);
  });

  it("never matches by a weaker algorithm, nor by inherited names", () => {
    const sha1 = "c".repeat(40);
    expect(subjectMatches(subject({ sha1, md5: "d".repeat(32) }), { sha256: A256, sha512: A512 })).toBe(
      false,
    );
    const bare = Object.create({ sha256: A256 }) as Record<string, string>;
    expect(subjectMatches(subject(bare), { sha256: A256 })).toBe(false);
  });
});
