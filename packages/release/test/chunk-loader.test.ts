import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleCli } from "../src/bundle.js";
import {
  type CachedChunk,
  codeCacheDirectory,
  executableKey,
  pruneCodeCache,
  readCodeCache,
  writeCodeCache,
} from "../src/chunk-loader.js";
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
  const source = '"use strict";exports.answer = 42; // caf\u00e9';
  const identity = [digest, Buffer.byteLength(source)] as const;
  const chunk = { source, data: crypto.randomBytes(4096) };
  const same = (read: CachedChunk | undefined) =>
    read !== undefined && read.source === chunk.source && read.data.equals(chunk.data);

  it("gives back the source and code cache writeCodeCache wrote, for this chunk's digest and length only", () => {
    const dir = fresh();
    writeCodeCache(dir, "c.v8", identity, chunk, fs);
    expect(same(readCodeCache(dir, "c.v8", identity, uid, fs))).toBe(true);
    expect(readCodeCache(dir, "c.v8", ["cd".repeat(32), identity[1]], uid, fs)).toBeUndefined();
    expect(readCodeCache(dir, "c.v8", [digest, identity[1] + 1], uid, fs)).toBeUndefined();
    expect(readCodeCache(dir, "c.v8", identity, uid + 1, fs)).toBeUndefined();
    expect(fs.readdirSync(dir)).toEqual(["c.v8"]);
    expect(fs.statSync(join(dir, "c.v8")).mode & 0o777).toBe(0o600);
  });

  it("writes nothing for a source that is not the chunk's, and leaves no temporary file when it cannot write", () => {
    const dir = fresh();
    writeCodeCache(dir, "c.v8", [digest, identity[1] + 1], chunk, fs);
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.mkdirSync(join(dir, "taken.v8", "occupied"), { recursive: true });
    writeCodeCache(dir, "taken.v8", identity, chunk, fs);
    expect(fs.readdirSync(dir)).toEqual(["taken.v8"]);
  });

  it("refuses a torn file, a longer one, a missing one, one without the header, and the old format", () => {
    const dir = fresh();
    writeCodeCache(dir, "c.v8", identity, chunk, fs);
    const bytes = fs.readFileSync(join(dir, "c.v8"));
    fs.writeFileSync(join(dir, "torn.v8"), bytes.subarray(0, bytes.length - 1));
    fs.writeFileSync(join(dir, "cut-in-source.v8"), bytes.subarray(0, bytes.indexOf(10) + 5));
    fs.writeFileSync(join(dir, "longer.v8"), Buffer.concat([bytes, Buffer.from([0])]));
    fs.writeFileSync(join(dir, "bare.v8"), chunk.data);
    fs.writeFileSync(
      join(dir, "v1.v8"),
      Buffer.concat([Buffer.from(`ironclaw-code-cache-1\n${digest}\n`), chunk.data]),
    );
    const header = bytes.subarray(0, bytes.indexOf(10)).toString("latin1");
    for (const length of ["-1", "0x10", "1e3", " 4096", "4096 ", "", "9".repeat(20)])
      fs.writeFileSync(
        join(dir, `length-${length.length}-${length.trim()}.v8`),
        Buffer.concat([Buffer.from(header.replace(/ \d+$/, ` ${length}`)), bytes.subarray(header.length)]),
      );
    for (const name of fs.readdirSync(dir).filter((name) => name !== "c.v8"))
      expect(readCodeCache(dir, name, identity, uid, fs), name).toBeUndefined();
    expect(readCodeCache(dir, "absent.v8", identity, uid, fs)).toBeUndefined();
  });

  it("never follows a symlink, never waits on a FIFO, and never reads past 64 MiB", () => {
    const dir = fresh();
    writeCodeCache(dir, "real.v8", identity, chunk, fs);
    fs.symlinkSync(join(dir, "real.v8"), join(dir, "link.v8"));
    fs.symlinkSync("/dev/zero", join(dir, "zero.v8"));
    expect(readCodeCache(dir, "link.v8", identity, uid, fs)).toBeUndefined();
    expect(readCodeCache(dir, "zero.v8", identity, uid, fs)).toBeUndefined();
    expect(spawnSync("mkfifo", [join(dir, "fifo.v8")]).status).toBe(0);
    expect(readCodeCache(dir, "fifo.v8", identity, uid, fs)).toBeUndefined();
    fs.writeFileSync(join(dir, "huge.v8"), "");
    fs.truncateSync(join(dir, "huge.v8"), 64 * 1024 * 1024 + 1);
    expect(readCodeCache(dir, "huge.v8", identity, uid, fs)).toBeUndefined();
  });
});

describe("pruneCodeCache", () => {
  it("keeps the most recently written files within the limit, and only removes its own kinds of file", () => {
    const dir = fresh();
    const hour = 3600;
    const now = Date.now() / 1000;
    const put = (name: string, size: number, age: number) => {
      fs.writeFileSync(join(dir, name), Buffer.alloc(size));
      fs.utimesSync(join(dir, name), now - age, now - age);
    };
    put("newest.v8", 400, 10);
    put("newer.v8", 400, 20);
    put("old.v8", 400, 30);
    put("oldest.v8", 400, 40);
    put(".left-by-a-killed-run.v8.1.2", 100, 2 * hour);
    put(".being-written.v8.3.4", 100, 60);
    fs.mkdirSync(join(dir, "a-directory"));
    const outside = join(fresh(), "kept");
    fs.writeFileSync(outside, Buffer.alloc(4000));
    fs.symlinkSync(outside, join(dir, "link.v8"));
    // Files it never writes, as in a home the path came to lead to: old dotfiles, large documents.
    put(".bashrc", 100, 2 * hour);
    put(".ssh.v8.old", 100, 2 * hour);
    put("thesis.pdf", 4000, 50);
    pruneCodeCache(dir, 1000, fs);
    expect(fs.readdirSync(dir).sort()).toEqual([
      ".bashrc",
      ".being-written.v8.3.4",
      ".ssh.v8.old",
      "a-directory",
      "link.v8",
      "newer.v8",
      "newest.v8",
      "thesis.pdf",
    ]);
    expect(fs.existsSync(outside)).toBe(true);
  });
});

describe("executableKey", () => {
  it("is 16 hex digits, stable, and differs between executables", () => {
    expect(executableKey("/usr/bin/node")).toMatch(/^[0-9a-f]{16}$/);
    expect(executableKey("/usr/bin/node")).toBe(executableKey("/usr/bin/node"));
    expect(executableKey("/usr/local/bin/ironclaw")).not.toBe(executableKey("/usr/bin/node"));
    // FNV-1a 64 of the empty string is its offset basis.
    expect(executableKey("")).toBe("cbf29ce484222325");
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
    fs.writeFileSync(script, (await bundleCli(source, "node")).script);
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
    const executable = executableKey(process.execPath);
    for (const name of files) expect(name).toContain(`.${process.version}.${process.arch}.${executable}.v8`);
    expect(help().filter((verdict) => verdict === "used")).toHaveLength(files.length);
    expect(cacheFiles()).toEqual(files);
  });

  it("never offers V8 a torn file; V8 refuses one relabelled from another source; both are replaced", () => {
    help();
    const files = cacheFiles();
    const path = join(cacheDir, files[0] as string);
    const whole = fs.readFileSync(path);
    fs.writeFileSync(path, whole.subarray(0, whole.length - 1));
    let verdicts = help();
    expect(verdicts.filter((verdict) => verdict === "used")).toHaveLength(files.length - 1);
    expect(verdicts).not.toContain("rejected");
    expect(fs.readFileSync(path).length).toBe(whole.length);
    // Well-formed, with V8 data of some other source: our checks pass, V8's do not.
    const header = whole.subarray(0, whole.indexOf(10)).toString("latin1");
    const [, chunkDigest, length] = header.split(" ");
    const cachedSource = whole
      .subarray(header.length + 1, header.length + 1 + Number(length))
      .toString("utf8");
    const other = new vm.Script("function other() { return 1 }").createCachedData();
    fs.rmSync(path);
    writeCodeCache(
      cacheDir,
      files[0] as string,
      [chunkDigest as string, Number(length)],
      { source: cachedSource, data: other },
      fs,
    );
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
