import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../packages/cli/test/helpers.js";

// The docs/verify.md blocks marked `<!-- verify-examples: DIR -->` run as written, in DIR.
const root = new URL("../../", import.meta.url).pathname;
const doc = readFileSync(join(root, "docs/verify.md"), "utf8");
const blocks = [...doc.matchAll(/<!-- verify-examples: (\S+) -->\n```sh\n([\s\S]*?)```/g)].map((m) => ({
  dir: join(root, m[1] ?? ""),
  lines: (m[2] ?? "").split("\n").filter((line) => line.trim() !== ""),
}));

describe("docs/verify.md examples", () => {
  it("has the npm provenance example", () => {
    expect(blocks.flatMap((b) => b.lines).length).toBeGreaterThanOrEqual(2);
  });

  it.each(blocks.flatMap((b) => b.lines.map((line) => [line, b.dir] as const)))(
    "%s exits 0",
    async (line, dir) => {
      expect(line.startsWith("ironclaw ")).toBe(true);
      const result = await runCli(line.split(" ").slice(1), { cwd: dir, env: {} });
      expect(result.stderr).toBe("");
      expect(result.stdout).toContain("Verified: 1 of 1 statement(s) about the artifact verified");
      expect(result.code).toBe(0);
    },
  );
});
