import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type CorpusCase, REAL_WORLD, runCase } from "./run-case.mjs";

// Real bundles and attestations from the public test data of gh, sigstore-js, sigstore-go,
// sigstore-python and cosign (test/fixtures/real-world/NOTICE), each with the verdict of the test
// that owns it (cited in the case). `npm run differential` runs the same cases through sigstore-js.
interface Difference {
  readonly id: string;
  readonly title: string;
  readonly reason: string;
  readonly cases: readonly string[];
}
const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, REAL_WORLD), "utf8")) as T;
const { cases } = load<{ cases: CorpusCase[] }>("corpus.json");
const { differences } = load<{ differences: Difference[] }>("differences.json");
const differenceIds = differences.map((d) => d.id);
const exists = (path: string) => existsSync(new URL(path, REAL_WORLD));
// One bundle (pretty-printed or not), or JSON Lines of bundles.
function bundleDocuments(text: string): unknown[] {
  try {
    return [JSON.parse(text)];
  } catch {
    return text
      .split("\n")
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line));
  }
}

describe("the real-world corpus", () => {
  it("holds at least 80 cases, each complete, with files that exist and an owner's test", () => {
    expect(cases.length).toBeGreaterThanOrEqual(80);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    for (const test of cases) {
      expect(exists(test.bundle), test.id).toBe(true);
      if (test.artifact?.file !== undefined) expect(exists(test.artifact.file), test.id).toBe(true);
      if (typeof test.root === "string" && test.root !== "embedded")
        expect(exists(test.root), test.id).toBe(true);
      expect(test.owner.length, test.id).toBeGreaterThan(0);
      expect(test.ownerTest.length, test.id).toBeGreaterThan(0);
      expect(["verified", "refused"]).toContain(test.expected);
    }
  });

  it("holds at least 80 distinct real bundles and attestations (each bundle of a JSON Lines file counts)", () => {
    const documents = new Set<string>();
    for (const path of new Set(cases.map((c) => c.bundle))) {
      const text = readFileSync(new URL(path, REAL_WORLD), "utf8");
      for (const document of bundleDocuments(text)) documents.add(JSON.stringify(document));
    }
    expect(documents.size).toBeGreaterThanOrEqual(80);
  });

  it("covers what issue 15 lists", () => {
    const covered = new Set(cases.flatMap((c) => c.covers));
    for (const topic of [
      "v0.1",
      "v0.3",
      "DSSE",
      "Rekor v2",
      "RFC 3161 timestamps",
      "staging root",
      "managed key",
      "npm provenance",
      "actions build type",
      "slsa-framework build type",
      "private instance",
      "expected failure",
    ]) {
      expect(covered.has(topic), topic).toBe(true);
    }
  });

  it.each(cases.map((c) => [c.id, c] as const))(
    "%s agrees with its owner, or is a listed refusal",
    (_id, test) => {
      const outcome = runCase(test);
      if (test.difference === undefined) {
        expect(outcome.verdict, outcome.detail).toBe(test.expected);
        return;
      }
      expect(differenceIds).toContain(test.difference);
      // A deliberate difference is never a false accept, and must still be a difference.
      expect(outcome.verdict, outcome.detail).toBe("refused");
      expect(test.expected).toBe("verified");
    },
  );
});

describe("the table of deliberate differences", () => {
  it("names only corpus cases that say they are that difference", () => {
    for (const difference of differences) {
      for (const id of difference.cases) {
        expect(cases.find((c) => c.id === id)?.difference, id).toBe(difference.id);
      }
    }
    for (const test of cases.filter((c) => c.difference !== undefined)) {
      expect(differences.find((d) => d.id === test.difference)?.cases).toContain(test.id);
    }
  });

  it('is what README\'s "What verify-bundle refuses" lists, exactly', () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const start = readme.indexOf("### What `verify-bundle` refuses");
    const section = readme.slice(
      start,
      readme.indexOf("\n### ", start + 1) === -1 ? undefined : readme.indexOf("\n## ", start + 1),
    );
    const listed = [...section.matchAll(/\[(D\d+)\]/g)].map((m) => m[1]);
    expect(listed).toEqual(differenceIds);
  });
});
