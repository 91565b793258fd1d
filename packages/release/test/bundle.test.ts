import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { bundleCli } from "../src/bundle.js";
import { chunkSource } from "../src/chunk-loader.js";
import type { JoinedScript } from "../src/lazy-chunks.js";
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

/** The source of every chunk a node script holds, read back as the loader reads it. */
function chunkSources(joined: JoinedScript): string[] {
  const text = Buffer.from(joined.script).toString("latin1");
  return [...text.matchAll(/function\(\)\{\/\*[^*]*(?:\*(?!\/)[^*]*)*\*\/\}/g)].map((match) =>
    chunkSource(
      new Function(`return ${match[0]}`)() as () => void,
      () => zlib,
      () => {
        throw new Error("a node script reads no assets");
      },
    ),
  );
}

describe("bundleCli", () => {
  it("gives the same bytes twice, for both hosts, with no path of the building machine in them", async () => {
    for (const host of ["node", "executable"] as const) {
      const [first, second] = [await bundleCli(source, host), await bundleCli(source, host)];
      expect(Buffer.from(first.script).equals(Buffer.from(second.script))).toBe(true);
      expect([...first.assets.keys()]).toEqual([...second.assets.keys()]);
      for (const [name, bytes] of first.assets)
        expect(Buffer.from(bytes).equals(Buffer.from(second.assets.get(name) ?? []))).toBe(true);
      // Every chunk, as the script holds it (inflated) or as an asset, and the script itself.
      const text = [
        Buffer.from(first.script).toString("utf8"),
        ...chunkSources(first),
        ...[...first.assets.values()].map((bytes) => Buffer.from(bytes).toString("utf8")),
      ].join("\n");
      expect(text).not.toContain(root);
      // "/tmp" itself is a constant of the sandbox code (the sandbox's private /tmp); no directory under it may appear.
      expect(text).not.toContain(`${tmpdir()}/`);
      expect(text).not.toContain(work);
      // The build info is inlined as strings.
      expect(text).toContain('"9.8.7"');
      expect(text).toContain(`"${source.commit}"`);
      expect(text).not.toContain("init_define_");
      // It carries the agent runtime, so a released `ironclaw up` can run agents without a checkout.
      expect(text).toContain("/run/ironclaw/agent.sock");
    }
  }, 60_000);

  it("compiles only the chunks a command needs, from a one-byte (ASCII) script", async () => {
    // A preload that reports each chunk the loader compiles (its vm.Script filename and length).
    const spy = join(work, "spy.cjs");
    writeFileSync(
      spy,
      `const vm = require("node:vm"); const Script = vm.Script;
vm.Script = class extends Script { constructor(source, options) { super(source, options);
  process.stderr.write("compiled " + options.filename + " " + source.length + "\\n"); } };`,
    );
    const release = join(work, "release");
    mkdirSync(release, { recursive: true });
    writeFileSync(join(release, "a.txt"), "a");
    writeFileSync(join(release, "SHA256SUMS"), `${createHash("sha256").update("a").digest("hex")}  a.txt\n`);
    const bytes = (await bundleCli(source, "node")).script;
    expect(bytes.every((byte) => byte < 0x80)).toBe(true);
    const path = join(work, "lazy.cjs");
    writeFileSync(path, bytes);
    const compiled = (...args: string[]) => {
      const run = spawnSync(process.execPath, ["--require", spy, path, ...args], {
        cwd: work,
        encoding: "utf8",
      });
      const chunks = [...run.stderr.matchAll(/^compiled ironclaw\/(\S+) (\d+)$/gm)];
      return {
        status: run.status,
        names: chunks.map((match) => match[1]),
        bytes: chunks.reduce((sum, match) => sum + Number(match[2]), 0),
      };
    };
    const version = compiled("--version");
    expect(version.status).toBe(0);
    expect(version.names).toContain("bundle-entry.js");
    expect(version.bytes).toBeLessThan(bytes.length * 0.02);
    const checksums = compiled("checksums", "verify", "--dir", release);
    expect(checksums.status).toBe(0);
    expect(checksums.bytes).toBeLessThan(bytes.length * 0.25);
    // verify-bundle loads sigstore's code, which checksums verify never compiles.
    const bundle = compiled(
      "verify-bundle",
      "--bundle",
      join(work, "absent.json"),
      "--key",
      spy,
      "sha256:00",
    );
    expect(bundle.status).not.toBe(0);
    const sigstore = bundle.names.filter((name) => !checksums.names.includes(name));
    expect(sigstore.length).toBeGreaterThan(0);
    // Sigstore's verifier alone is some 300 KB of code; the floor says "its code", not "a chunk".
    expect(bundle.bytes - checksums.bytes).toBeGreaterThan(150_000);
  }, 60_000);

  it("bundles a CLI that runs on its own, reporting the injected version", async () => {
    const path = join(work, "ironclaw.cjs");
    writeFileSync(path, (await bundleCli(source, "node")).script);
    const run = spawnSync(process.execPath, [path, "--version"], { cwd: work, encoding: "utf8" });
    expect(run.stdout).toBe("9.8.7\n");
    const help = spawnSync(process.execPath, [path, "--help"], { cwd: work, encoding: "utf8" });
    expect(help.stdout).toContain("attestation");
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
