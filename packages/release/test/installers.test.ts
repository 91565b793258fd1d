import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildRelease, INSTALLER_NAMES } from "../src/build.js";
import type { SourceInfo } from "../src/source-info.js";

const root = new URL("../../../", import.meta.url).pathname.replace(/\/$/, "");
const source: SourceInfo = {
  root,
  version: "9.8.7",
  commit: "c0ffee".padEnd(40, "0"),
  sourceDateEpoch: 1_700_000_000,
  dirty: false,
};
const work = mkdtempSync(join(tmpdir(), "ironclaw-installers-build-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the installers in a release", () => {
  it("are copied from the source root byte for byte, whatever the targets", async () => {
    const out = join(work, "out");
    const built = await buildRelease({ source, outDir: out, targets: [] });
    expect(built.installers).toEqual(["install.ps1", "install.sh"]);
    expect(built.archives).toEqual([]);
    expect(readdirSync(out).sort()).toEqual(["install.ps1", "install.sh"]);
    for (const name of INSTALLER_NAMES) {
      expect(readFileSync(join(out, name)).equals(readFileSync(join(root, name))), name).toBe(true);
    }
  });

  it("are required: a source without one builds no release", async () => {
    const bare = join(work, "bare");
    mkdirSync(bare);
    for (const name of ["LICENSE", "README.md", "install.ps1"])
      copyFileSync(join(root, name), join(bare, name));
    await expect(
      buildRelease({ source: { ...source, root: bare }, outDir: join(work, "bare-out"), targets: [] }),
    ).rejects.toThrow(
      `a release ships install.sh, but ${join(bare, "install.sh")} cannot be read (ENOENT); build from a commit that has the installers`,
    );
  });
});
