import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleCli } from "../src/bundle.js";
import { codeCacheDirectory, readCodeCache, writeCodeCache } from "../src/chunk-loader.js";
import type { SourceInfo } from "../src/source-info.js";

const work = fs.mkdtempSync(join(tmpdir(), "ironclaw-code-cache-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const uid = process.getuid?.() ?? -1;
const digest = "ab".repeat(32);
let cases = 0;
const fresh = () => {
  const dir = join(work, `case-${++cases}`);
  fs.mkdirSync(dir, { mode: 0o700 });
  return dir;
};

describe.skipIf(process.getuid === undefined)("codeCacheDirectory", () => {
  it("creates $XDG_CACHE_HOME/ironclaw/code-cache private to this user", () => {
    const base = fresh();
    const dir = codeCacheDirectory({ XDG_CACHE_HOME: base }, uid, fs);
    expect(dir).toBe(join(base, "ironclaw", "code-cache"));
    for (const level of [join(base, "ironclaw"), dir as string])
      expect(fs.lstatSync(level).mode & 0o777).toBe(0o700);
    expect(codeCacheDirectory({ HOME: base }, uid, fs)).toBe(join(base, ".cache", "ironclaw", "code-cache"));
  });

  it("gives none when turned off, under CI, without user ids or an absolute home", () => {
    const base = fresh();
    expect(codeCacheDirectory({ XDG_CACHE_HOME: base, IRONCLAW_CODE_CACHE: "off" }, uid, fs)).toBeUndefined();
    expect(codeCacheDirectory({ XDG_CACHE_HOME: base, CI: "true" }, uid, fs)).toBeUndefined();
    expect(codeCacheDirectory({ XDG_CACHE_HOME: base }, undefined, fs)).toBeUndefined();
    expect(codeCacheDirectory({ HOME: "relative" }, uid, fs)).toBeUndefined();
    expect(codeCacheDirectory({}, uid, fs)).toBeUndefined();
  });

  it("refuses a symlinked level, a level others can enter, another owner, and a file in the way", () => {
    const elsewhere = fresh();
    const linked = fresh();
    fs.symlinkSync(elsewhere, join(linked, "ironclaw"));
    expect(codeCacheDirectory({ XDG_CACHE_HOME: linked }, uid, fs)).toBeUndefined();
    const open = fresh();
    fs.mkdirSync(join(open, "ironclaw", "code-cache"), { recursive: true, mode: 0o700 });
    fs.chmodSync(join(open, "ironclaw", "code-cache"), 0o755);
    expect(codeCacheDirectory({ XDG_CACHE_HOME: open }, uid, fs)).toBeUndefined();
    // Another user's cache home (sudo keeping HOME): refused, and nothing is made in it.
    const theirs = fresh();
    expect(codeCacheDirectory({ XDG_CACHE_HOME: theirs }, uid + 1, fs)).toBeUndefined();
    expect(codeCacheDirectory({ HOME: theirs }, uid + 1, fs)).toBeUndefined();
    expect(fs.readdirSync(theirs)).toEqual([]);
    const file = fresh();
    fs.writeFileSync(join(file, "ironclaw"), "");
    expect(codeCacheDirectory({ XDG_CACHE_HOME: file }, uid, fs)).toBeUndefined();
  });
});

describe.skipIf(process.getuid === undefined)("readCodeCache", () => {
  const payload = crypto.randomBytes(4096);

  it("gives back what writeCodeCache wrote, for this chunk's digest only", () => {
    const dir = fresh();
    writeCodeCache(dir, "c.v8", digest, payload, fs, crypto);
    expect(readCodeCache(dir, "c.v8", digest, uid, fs, crypto)?.equals(payload)).toBe(true);
    expect(readCodeCache(dir, "c.v8", "cd".repeat(32), uid, fs, crypto)).toBeUndefined();
    expect(readCodeCache(dir, "c.v8", digest, uid + 1, fs, crypto)).toBeUndefined();
    expect(fs.readdirSync(dir)).toEqual(["c.v8"]);
    expect(fs.statSync(join(dir, "c.v8")).mode & 0o777).toBe(0o600);
  });

  it("refuses a changed byte, a torn file, a missing file and a file without the header", () => {
    const dir = fresh();
    writeCodeCache(dir, "c.v8", digest, payload, fs, crypto);
    const bytes = fs.readFileSync(join(dir, "c.v8"));
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 100] = (flipped[flipped.length - 100] ?? 0) ^ 1;
    fs.writeFileSync(join(dir, "flipped.v8"), flipped);
    fs.writeFileSync(join(dir, "torn.v8"), bytes.subarray(0, bytes.length - 1));
    fs.writeFileSync(join(dir, "bare.v8"), payload);
    for (const name of ["flipped.v8", "torn.v8", "absent.v8", "bare.v8"])
      expect(readCodeCache(dir, name, digest, uid, fs, crypto)).toBeUndefined();
  });

  it("never follows a symlink, never waits on a FIFO, and never reads past 16 MiB", () => {
    const dir = fresh();
    writeCodeCache(dir, "real.v8", digest, payload, fs, crypto);
    fs.symlinkSync(join(dir, "real.v8"), join(dir, "link.v8"));
    fs.symlinkSync("/dev/zero", join(dir, "zero.v8"));
    expect(readCodeCache(dir, "link.v8", digest, uid, fs, crypto)).toBeUndefined();
    expect(readCodeCache(dir, "zero.v8", digest, uid, fs, crypto)).toBeUndefined();
    expect(spawnSync("mkfifo", [join(dir, "fifo.v8")]).status).toBe(0);
    expect(readCodeCache(dir, "fifo.v8", digest, uid, fs, crypto)).toBeUndefined();
    fs.writeFileSync(join(dir, "huge.v8"), "");
    fs.truncateSync(join(dir, "huge.v8"), 16 * 1024 * 1024 + 1);
    expect(readCodeCache(dir, "huge.v8", digest, uid, fs, crypto)).toBeUndefined();
  });
});

describe.skipIf(process.getuid === undefined)("the released script's code cache", () => {
  const source: SourceInfo = {
    root: new URL("../../../", import.meta.url).pathname.replace(/\/$/, ""),
    version: "9.8.7",
    commit: "c0ffee".padEnd(40, "0"),
    sourceDateEpoch: 1_700_000_000,
    dirty: false,
  };
  const script = join(work, "ironclaw.cjs");
  const cacheHome = join(work, "cache-home");
  const cacheDir = join(cacheHome, "ironclaw", "code-cache");
  // A preload that says, for each chunk compiled, whether a code cache was offered and whether V8 took it.
  const spy = join(work, "spy.cjs");
  beforeAll(async () => {
    fs.writeFileSync(script, await bundleCli(source, "cjs"));
    fs.writeFileSync(
      spy,
      `const vm = require("node:vm"); const Script = vm.Script;
vm.Script = class extends Script { constructor(source, options) { super(source, options);
  const verdict = options.cachedData === undefined ? "none" : this.cachedDataRejected ? "rejected" : "used";
  process.stderr.write("cache " + verdict + " " + options.filename + "\\n"); } };`,
    );
  }, 60_000);
  /** Runs `checksums --help`; the cache verdict of each chunk. */
  const help = (env: Record<string, string> = {}) => {
    const { CI: _, ...inherited } = process.env;
    const run = spawnSync(process.execPath, ["--require", spy, script, "checksums", "--help"], {
      encoding: "utf8",
      env: { ...inherited, XDG_CACHE_HOME: cacheHome, ...env },
    });
    expect(run.stdout).toContain("ironclaw checksums");
    expect(run.status).toBe(0);
    expect(run.stderr.replace(/^cache \w+ \S+\n/gm, "")).toBe("");
    return [...run.stderr.matchAll(/^cache (\w+) ironclaw\/(\S+)$/gm)].map((match) => match[1]);
  };
  const cacheFiles = () => fs.readdirSync(cacheDir).sort();

  it("is written once, then used", () => {
    expect(help()).not.toContain("used");
    const files = cacheFiles();
    expect(files.length).toBeGreaterThan(0);
    // Keyed by the executable too: V8 refuses another build's cache, so node and a standalone
    // ironclaw of the same release would otherwise replace each other's at every run.
    const executable = crypto.createHash("sha256").update(process.execPath).digest("hex").slice(0, 16);
    for (const name of files) expect(name).toContain(`.${process.version}.${process.arch}.${executable}.v8`);
    expect(help().filter((verdict) => verdict === "used")).toHaveLength(files.length);
    expect(cacheFiles()).toEqual(files);
  });

  it("never offers V8 a damaged file; V8 refuses one relabelled from another source; both are replaced", () => {
    help();
    const files = cacheFiles();
    const path = join(cacheDir, files[0] as string);
    const damaged = fs.readFileSync(path);
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] ?? 0) ^ 0xff;
    fs.writeFileSync(path, damaged);
    let verdicts = help();
    expect(verdicts.filter((verdict) => verdict === "used")).toHaveLength(files.length - 1);
    expect(verdicts).not.toContain("rejected");
    const chunkDigest = (files[0] as string).split(".")[0] as string;
    expect(readCodeCache(cacheDir, files[0] as string, chunkDigest, uid, fs, crypto)).toBeDefined();
    // Well-formed, with a payload that is V8's cache of some other source: our checks pass, V8's do not.
    const other = new vm.Script("function other() { return 1 }").createCachedData();
    fs.rmSync(path);
    writeCodeCache(cacheDir, files[0] as string, chunkDigest, other, fs, crypto);
    verdicts = help();
    expect(verdicts.filter((verdict) => verdict === "rejected")).toHaveLength(1);
    expect(help().filter((verdict) => verdict === "used")).toHaveLength(files.length);
  });

  it("runs as before when a cache file cannot be written (a directory in its place)", () => {
    help();
    const files = cacheFiles();
    for (const name of files) {
      fs.rmSync(join(cacheDir, name));
      fs.mkdirSync(join(cacheDir, name, "occupied"), { recursive: true });
    }
    expect(help()).not.toContain("used");
    expect(help()).not.toContain("used");
    for (const name of files) expect(fs.statSync(join(cacheDir, name)).isDirectory()).toBe(true);
    expect(fs.readdirSync(cacheDir).sort()).toEqual(files);
    for (const name of files) fs.rmSync(join(cacheDir, name), { recursive: true });
  });

  it("is neither read nor written with IRONCLAW_CODE_CACHE=off", () => {
    fs.rmSync(cacheHome, { recursive: true, force: true });
    help({ IRONCLAW_CODE_CACHE: "off" });
    expect(fs.existsSync(cacheHome)).toBe(false);
  });
});
