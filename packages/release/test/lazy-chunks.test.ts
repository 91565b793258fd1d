import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { chunkSource } from "../src/chunk-loader.js";
import { compressedHolder, holder } from "../src/lazy-chunks.js";

const nasty = [
  "a */ b /* c */",
  'x = /\\*\\//g; y = "\\"*/"',
  "caf\u00e9 \u2028 \u2029 \u{1F600} \\u0041",
  "`$" + "{a}` </script> \\ \\\\ */*/**/",
  "",
];
const noAssets = () => {
  throw new Error("a script's own chunks read no assets");
};
const read = (text: string) =>
  chunkSource(new Function(`return ${text}`)() as () => void, () => zlib, noAssets);

describe("a chunk held in a comment", () => {
  it("reads back exactly, whatever the code holds, from an ASCII holder, as JSON or compressed", () => {
    for (const source of [...nasty, "*/".repeat(50_000)]) {
      for (const text of [holder(source), compressedHolder(source)]) {
        expect(text).toMatch(/^[\x00-\x7f]*$/);
        expect(text.slice(text.indexOf("/*") + 2, text.lastIndexOf("*/"))).not.toContain("*/");
        expect(read(text)).toBe(source);
      }
    }
  });

  it("holds a large chunk in fewer bytes than its source", () => {
    const source = `"use strict";${Array.from({ length: 2000 }, (_, i) => `function f${i}(a){return a+${i}}`).join(";")}`;
    expect(compressedHolder(source).length).toBeLessThan(source.length / 3);
  });

  it("reads an executable's chunk from the asset it names, and from nothing else", () => {
    const asked: string[] = [];
    const sea = {
      getRawAsset: (key: string) => {
        asked.push(key);
        return new TextEncoder().encode("exports.a='caf\u00e9'").buffer;
      },
    };
    expect(
      chunkSource(
        "chunk-ABC.js",
        () => zlib,
        () => sea as never,
      ),
    ).toBe("exports.a='caf\u00e9'");
    expect(asked).toEqual(["chunk-ABC.js"]);
  });
});
