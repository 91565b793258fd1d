import {
  artifactFromDigest,
  looksLikeDigest,
  parseInTotoStatement,
  subjectsMatching,
} from "@ironclaw/verify";
import { describe, expect, it } from "vitest";
import { expectVerifyError } from "./expect-code.js";

const HEX = "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";

describe("artifactFromDigest", () => {
  it("takes sha256:<64 hex> in either case", () => {
    expect(artifactFromDigest(`sha256:${HEX.toUpperCase()}`)).toEqual({
      kind: "sha256",
      digest: Buffer.from(HEX, "hex"),
    });
    expect(looksLikeDigest(`sha256:${HEX}`)).toBe(true);
    expect(looksLikeDigest("./sha256.txt")).toBe(false);
  });
  it.each([
    [`sha256:${HEX.slice(1)}`, "IC_ARTIFACT_DIGEST_INVALID"],
    [`sha256:${HEX}00`, "IC_ARTIFACT_DIGEST_INVALID"],
    [`sha256:${"g".repeat(64)}`, "IC_ARTIFACT_DIGEST_INVALID"],
    ["sha256:", "IC_ARTIFACT_DIGEST_INVALID"],
    [`sha512:${"a".repeat(128)}`, "IC_ARTIFACT_DIGEST_UNSUPPORTED"],
    [`SHA256:${HEX}`, "IC_ARTIFACT_DIGEST_INVALID"],
  ] as const)("refuses %s", (text, code) => {
    expectVerifyError(() => artifactFromDigest(text), code);
  });
});

describe("in-toto statements", () => {
  const statement = (fields: Record<string, unknown>) =>
    Buffer.from(
      JSON.stringify({
        _type: "https://in-toto.io/Statement/v1",
        predicateType: "https://slsa.dev/provenance/v1",
        ...fields,
      }),
    );

  it("parses subjects and matches a digest exactly, case-insensitively", () => {
    const parsed = parseInTotoStatement(
      statement({
        subject: [
          { name: "a.txt", digest: { sha256: HEX.toUpperCase() } },
          { name: "b", digest: { sha512: "ab" } },
        ],
      }),
    );
    expect(subjectsMatching(parsed, { sha256: HEX }).map((s) => s.name)).toEqual(["a.txt"]);
    expect(subjectsMatching(parsed, { sha256: HEX.replace(/^a/, "b") })).toEqual([]);
  });
  it.each([
    ["not JSON", Buffer.from("{")],
    ["no subjects", statement({ subject: [] })],
    ["a subject without digest", statement({ subject: [{ name: "x" }] })],
    ["a non-hex digest", statement({ subject: [{ name: "x", digest: { sha256: "zz" } }] })],
    [
      "another _type",
      Buffer.from(JSON.stringify({ _type: "x", predicateType: "p", subject: [{ digest: { sha256: HEX } }] })),
    ],
    ["no predicate type", statement({ predicateType: undefined, subject: [{ digest: { sha256: HEX } }] })],
  ])("refuses a statement with %s", (_what, payload) => {
    expectVerifyError(() => parseInTotoStatement(payload), "IC_ATTESTATION_STATEMENT_INVALID");
  });
});
