import { strToU8, Zip, ZipPassThrough } from "fflate";
import { describe, expect, it } from "vitest";
import { extractEntry } from "../src/upgrade/extract.js";

/**
 * A zip written entry by entry with fflate's streaming writer, which, unlike zipSync (an object keyed
 * by name), writes two entries of the same name: what a hostile or broken release tool could make.
 */
function zipOf(entries: ReadonlyArray<readonly [string, string]>): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const zip = new Zip((error, data, final) => {
      if (error !== null) return reject(error);
      chunks.push(data);
      if (final) resolve(Buffer.concat(chunks));
    });
    for (const [name, body] of entries) {
      const file = new ZipPassThrough(name);
      zip.add(file);
      file.push(strToU8(body), true);
    }
    zip.end();
  });
}

describe("the one file an upgrade takes out of a Windows zip", () => {
  it("takes ironclaw.exe when the zip holds exactly one", async () => {
    const zip = await zipOf([
      ["LICENSE", "MIT\n"],
      ["ironclaw.exe", "the executable"],
    ]);
    expect((await extractEntry(zip, "ironclaw_1.0.0_windows_amd64.zip", "ironclaw.exe")).toString()).toBe(
      "the executable",
    );
  });

  it("refuses a zip with two entries named ironclaw.exe, rather than keep one of them", async () => {
    const zip = await zipOf([
      ["ironclaw.exe", "the first"],
      ["ironclaw.exe", "the second"],
    ]);
    await expect(extractEntry(zip, "ironclaw_1.0.0_windows_amd64.zip", "ironclaw.exe")).rejects.toThrow(
      "ironclaw_1.0.0_windows_amd64.zip holds 2 files named ironclaw.exe; expected exactly one",
    );
  });
});
