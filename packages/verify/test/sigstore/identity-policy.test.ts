import { exactly, matches, matchingRegexp } from "@ironclaw/verify";
import { describe, expect, it } from "vitest";
import { expectVerifyError } from "./expect-code.js";

const WORKFLOW = "https://github.com/acme/tool/.github/workflows/release.yml@refs/tags/v1.2.3";

describe("exact identities", () => {
  const matcher = exactly(WORKFLOW, "identity");
  it("match only the same string", () => {
    expect(matches(matcher, WORKFLOW)).toBe(true);
    expect(matches(matcher, WORKFLOW.slice(0, -1))).toBe(false);
    expect(matches(matcher, `${WORKFLOW}0`)).toBe(false);
    expect(matches(matcher, `https://evil.example/${WORKFLOW}`)).toBe(false);
    expect(matches(matcher, WORKFLOW.toUpperCase())).toBe(false);
    expect(matches(matcher, undefined)).toBe(false);
  });
  it("refuse an empty expectation", () => {
    expectVerifyError(() => exactly("", "identity"), "IC_POLICY_INVALID");
  });
});

describe("regular-expression identities are anchored whatever the user typed", () => {
  it("never match as a substring", () => {
    const matcher = matchingRegexp("https://github.com/acme/tool/.*", "identity");
    expect(matches(matcher, WORKFLOW)).toBe(true);
    expect(matches(matcher, `https://evil.example/?u=${WORKFLOW}`)).toBe(false);
  });
  it("never match a prefix or suffix of the value", () => {
    const matcher = matchingRegexp("https://github.com/acme/tool", "identity");
    expect(matches(matcher, "https://github.com/acme/tool")).toBe(true);
    expect(matches(matcher, "https://github.com/acme/tool-fork")).toBe(false);
    expect(matches(matcher, "xhttps://github.com/acme/tool")).toBe(false);
  });
  it("anchor every branch of an alternation", () => {
    const matcher = matchingRegexp("a|b", "identity");
    expect(matches(matcher, "a")).toBe(true);
    expect(matches(matcher, "ab")).toBe(false);
    expect(matches(matcher, "xa")).toBe(false);
  });
  it("keep anchors the user wrote harmless", () => {
    const matcher = matchingRegexp("^https://token\\.actions\\.githubusercontent\\.com$", "issuer");
    expect(matches(matcher, "https://token.actions.githubusercontent.com")).toBe(true);
    expect(matches(matcher, "https://token.actions.githubusercontent.com.evil")).toBe(false);
  });
  it("refuse invalid and empty expressions", () => {
    expectVerifyError(() => matchingRegexp("(", "identity"), "IC_POLICY_INVALID");
    expectVerifyError(() => matchingRegexp("", "identity"), "IC_POLICY_INVALID");
  });
});
