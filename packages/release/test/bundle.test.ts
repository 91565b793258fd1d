import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { bundleCli, cliBundleOptions } from "../src/bundle.js";
import { readSourceInfo, type SourceInfo } from "../src/source-info.js";

const root = new URL("../../../", import.meta.url).pathname.replace(/\/$/, "");
const source: SourceInfo = {
  root,
  version: "9.8.7",
  commit: "c0ffee".padEnd(40, "0"),
  sourceDateEpoch: 1_700_000_000,
  dirty: false,
};
const work = mkdtempSync(join(tmpdir(), "ironclaw-bundle-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("bundleCli", () => {
  it("gives the same bytes twice, in both formats, with no path of the building machine in them", async () => {
    for (const format of ["esm", "cjs"] as const) {
      const [first, second] = [await bundleCli(source, format), await bundleCli(source, format)];
      expect(Buffer.from(first).equals(Buffer.from(second))).toBe(true);
      const text = Buffer.from(first).toString("utf8");
      expect(text).not.toContain(root);
      // "/tmp" itself is a constant of the sandbox code (the sandbox's private /tmp); no directory under it may appear.
      expect(text).not.toContain(`${tmpdir()}/`);
      expect(text).not.toContain(work);
      expect(text).toContain('"9.8.7"');
      // It carries the agent runtime, so a released `ironclaw up` can run agents without a checkout.
      expect(text).toContain("/run/ironclaw/agent.sock");
    }
  }, 60_000);

  it("imports no Node built-in statically (each loads when the module using it is evaluated)", async () => {
    for (const format of ["esm", "cjs"] as const) {
      const result = await build({ ...(await cliBundleOptions(source, format)), metafile: true });
      const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports);
      expect(imports.filter((entry) => entry.kind === "import-statement")).toEqual([]);
      // They are still there, as require() calls: http for the gateway, worker_threads for hashing.
      const required = imports.filter((entry) => entry.kind === "require-call").map((entry) => entry.path);
      expect(required).toEqual(expect.arrayContaining(["node:http", "node:worker_threads", "events"]));
    }
  }, 60_000);

  it("bundles a CLI that runs on its own, reporting the injected version", async () => {
    for (const [format, file] of [
      ["esm", "ironclaw.mjs"],
      ["cjs", "ironclaw.cjs"],
    ] as const) {
      const path = join(work, file);
      writeFileSync(path, await bundleCli(source, format));
      const run = spawnSync(process.execPath, [path, "--version"], { cwd: work, encoding: "utf8" });
      expect(run.stdout).toBe("9.8.7\n");
      const help = spawnSync(process.execPath, [path, "--help"], { cwd: work, encoding: "utf8" });
      expect(help.stdout).toContain("attestation");
    }
  }, 60_000);
});

describe("readSourceInfo", () => {
  it("takes the commit and its time from git, and SOURCE_DATE_EPOCH over it", () => {
    const fromGit = readSourceInfo(root, { env: {} });
    expect(fromGit.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(fromGit.sourceDateEpoch).toBeGreaterThan(1_700_000_000);
    expect(readSourceInfo(root, { env: { SOURCE_DATE_EPOCH: "1234" } }).sourceDateEpoch).toBe(1234);
  });

  it("refuses a SOURCE_DATE_EPOCH or version it cannot use", () => {
    expect(() => readSourceInfo(root, { env: { SOURCE_DATE_EPOCH: "yesterday" } })).toThrow(
      /SOURCE_DATE_EPOCH/,
    );
    expect(() => readSourceInfo(root, { env: {}, version: "v1.2" })).toThrow(/not X\.Y\.Z/);
  });
});
