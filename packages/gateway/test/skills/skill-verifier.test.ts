import { describe, expect, it } from "vitest";
import { COMPILED_IN_TOOLS } from "../../src/changes/tools.js";
import { type ProposedChange, runVerifierChain, type VerifierContext } from "../../src/changes/verifiers.js";
import { EMPTY_REGISTRY, foldRegistry } from "../../src/registry.js";
import type { SkillFacts } from "../../src/skills/facts.js";

/** The chain is pure: these facts stand for what the edge read, so each refusal is checked without I/O. */
const DIGEST = `sha256:${"a".repeat(64)}`;
const GOOD: SkillFacts = {
  read: "ok",
  digest: DIGEST,
  signature: { verified: true, identity: "https://github.com/acme/skills/x", issuer: "https://issuer" },
  archive: { ok: true, name: "pdf-summary", version: "1.2.0", tools: ["read_file"] },
};
const registry = foldRegistry(EMPTY_REGISTRY, {
  type: "change.applied",
  id: "c1",
  kind: "create_agent",
  payload: { agent: "demo" },
});

function check(
  facts: SkillFacts | undefined,
  skill: Record<string, unknown> = {},
  root: string | null = "/srv/skills",
) {
  const entry = {
    name: "pdf-summary",
    source: "pdf-summary-1.2.0.tar.gz",
    version: "1.2.0",
    digest: DIGEST,
    signer: { repository: "acme/skills" },
    ...skill,
  };
  const context: VerifierContext = {
    registry,
    tools: COMPILED_IN_TOOLS,
    pendingForRequester: 0,
    pendingCap: 16,
    pendingTotal: 0,
    pendingTotalCap: 256,
    pendingNewAgents: new Set(),
    mounts: { root: null, sources: new Map() },
    modelProviders: new Map(),
    packages: new Map(),
    skills: { root, facts: new Map(facts === undefined ? [] : [[entry.name, facts]]) },
  };
  const change = { kind: "skills", payload: { agent: "demo", skills: [entry] } } as unknown as ProposedChange;
  return runVerifierChain(change, context);
}

describe("verifier skill_signature", () => {
  it("lets a skill through whose facts agree with the change, and runs after the generic checks", () => {
    expect(check(GOOD)).toEqual({ passed: ["agent_reference", "pending_cap", "skill_signature"] });
  });

  it.each<[string, SkillFacts | undefined, Record<string, unknown>, string | null, RegExp]>([
    ["no skills root", GOOD, {}, null, /no skills root is configured/],
    ["an Object.prototype name", GOOD, { name: "constructor" }, "/srv/skills", /Object\.prototype/],
    ["a source that climbs", GOOD, { source: "../x.tar.gz" }, "/srv/skills", /plain relative path/],
    ["a source that is not an archive", GOOD, { source: "x.zip" }, "/srv/skills", /must name the archive/],
    ["nothing read", undefined, {}, "/srv/skills", /has not read/],
    [
      "a failed read",
      { read: "failed", reason: "x resolves outside" },
      {},
      "/srv/skills",
      /resolves outside/,
    ],
    [
      "another digest",
      { ...GOOD, digest: `sha256:${"b".repeat(64)}` },
      {},
      "/srv/skills",
      /tampered or another archive/,
    ],
    [
      "an unverified signature",
      { ...GOOD, signature: { verified: false, code: "IC_SKILL_UNSIGNED", reason: "no bundle" } },
      {},
      "/srv/skills",
      /signature refused \(IC_SKILL_UNSIGNED\)/,
    ],
    [
      "a broken archive",
      { ...GOOD, archive: { ok: false, code: "IC_SKILL_MANIFEST_INVALID", reason: "no front matter" } },
      {},
      "/srv/skills",
      /IC_SKILL_MANIFEST_INVALID: no front matter/,
    ],
    [
      "another name in SKILL.md",
      { ...GOOD, archive: { ...GOOD.archive, name: "other" } } as SkillFacts,
      {},
      "/srv/skills",
      /names it "other"/,
    ],
    [
      "another version in SKILL.md",
      { ...GOOD, archive: { ...GOOD.archive, version: "2.0.0" } } as SkillFacts,
      {},
      "/srv/skills",
      /gives version 2\.0\.0/,
    ],
  ])("refuses %s, with the reason", (_what, facts, skill, root, reason) => {
    const result = check(facts, skill, root);
    expect(result.refusal?.verifier).toBe("skill_signature");
    expect(result.refusal?.reason).toMatch(reason);
  });
});
