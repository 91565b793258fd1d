import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const model = readFileSync(join(root, "docs", "threat-model.md"), "utf8");

/** `path` › "test name": a test the document claims proves a mitigation. */
const TEST_REFERENCE = /`([^`]+\.test\.ts)` › "([^"]+)"/g;
/** Any backticked path into the repository. */
const PATH_REFERENCE = /`((?:packages|test|scripts|\.github|docs)\/[^`\s]+|install\.sh|install\.ps1)`/g;

describe("docs/threat-model.md", () => {
  const tests = [...model.matchAll(TEST_REFERENCE)].map((match) => [match[1] ?? "", match[2] ?? ""] as const);
  const paths = [...new Set([...model.matchAll(PATH_REFERENCE)].map((match) => match[1] ?? ""))];

  it("names the code and tests behind its mitigations", () => {
    expect(tests.length).toBeGreaterThan(15);
    expect(paths.length).toBeGreaterThan(20);
  });

  it.each(paths)("refers to %s, which exists", (path) => {
    expect(existsSync(join(root, path))).toBe(true);
  });

  it.each(tests)("refers to %s › %j, which is a test there", (file, name) => {
    const source = readFileSync(join(root, file), "utf8");
    expect(
      source.includes(JSON.stringify(name)) || source.includes(`"${name}`) || source.includes(name),
    ).toBe(true);
  });

  it("has the sections SECURITY.md points to", () => {
    expect(model).toContain("## 8. What counts as a vulnerability");
    expect(model).toContain("## 9. Non-goals");
  });
});
