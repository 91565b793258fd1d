import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compareTrees } from "../src/compare.js";

let left: string;
let right: string;
beforeEach(() => {
  left = mkdtempSync(join(tmpdir(), "ironclaw-left-"));
  right = mkdtempSync(join(tmpdir(), "ironclaw-right-"));
  for (const dir of [left, right]) {
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "same"), Buffer.alloc(3 << 20, 7));
    writeFileSync(join(dir, "sub", "nested"), "nested");
  }
});
afterEach(() => {
  rmSync(left, { recursive: true, force: true });
  rmSync(right, { recursive: true, force: true });
});

describe("compareTrees", () => {
  it("finds nothing in identical trees", async () => {
    expect(await compareTrees(left, right)).toEqual([]);
  });

  it("names a file whose bytes differ, with the first differing offset past the first chunk", async () => {
    const data = Buffer.alloc(3 << 20, 7);
    data[(2 << 20) + 5] = 8;
    writeFileSync(join(right, "same"), data);
    expect(await compareTrees(left, right)).toEqual([
      { name: "same", detail: `bytes differ from offset ${(2 << 20) + 5} (sizes ${3 << 20} and ${3 << 20})` },
    ]);
  });

  it("names files that exist on one side only, and a file that is a prefix of the other", async () => {
    writeFileSync(join(left, "extra"), "x");
    writeFileSync(join(right, "sub", "nested"), "nested and more");
    expect(await compareTrees(left, right)).toEqual([
      { name: "extra", detail: `only in ${left}` },
      { name: "sub/nested", detail: "one file ends at offset 6 (sizes 6 and 15)" },
    ]);
  });
});
