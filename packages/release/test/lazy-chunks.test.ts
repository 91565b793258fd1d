import { describe, expect, it } from "vitest";
import { chunkSource } from "../src/chunk-loader.js";
import { holder } from "../src/lazy-chunks.js";

describe("a chunk held in a comment", () => {
  it("reads back exactly, whatever the code holds, from an ASCII holder", () => {
    const nasty = [
      "a */ b /* c */",
      'x = /\\*\\//g; y = "\\"*/"',
      "caf\u00e9 \u2028 \u2029 \u{1F600} \\u0041",
      "`$" + "{a}` </script> \\ \\\\ */*/**/",
      "",
    ];
    for (const source of nasty) {
      const text = holder(source);
      expect(text).toMatch(/^[\x00-\x7f]*$/);
      expect(text.slice(text.indexOf("/*") + 2, text.lastIndexOf("*/"))).not.toContain("*/");
      const fn = new Function(`return ${text}`)() as () => void;
      expect(chunkSource(fn)).toBe(source);
    }
  });
});
