import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalSigstore } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { REPOSITORY, removeAll, signedRelease } from "./release-fixture.js";
import { ReleaseServer, type ReleaseServerOptions } from "./release-server.js";

/** Three signed releases of the node bundle, served by a GitHub-shaped server, for upgrade tests. */
export const OLD = "0.5.0";
export const NEW = "0.6.0";
export const OLDER = "0.4.0";
export const archive = (version: string) => `ironclaw_${version}_node.tar.gz`;
export const jsonl = (version: string) => `ironclaw_${version}.intoto.jsonl`;

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  killAt?: string;
  shell?: string;
  /** Called with the child once it is started (to signal it, or read /proc). */
  started?: (child: ChildProcess) => void;
  /** Called on every stderr chunk with all stderr so far. */
  onStderr?: (stderr: string, child: ChildProcess) => void;
  uid?: number;
}

/** Runs the installed ironclaw asynchronously, so this process's server keeps answering. */
export function runInstalled(path: string, args: string[], options: RunOptions = {}): Promise<Run> {
  return new Promise((resolve) => {
    const argv = [path, ...args];
    const env = { ...process.env, ...options.env };
    const ids = options.uid === undefined ? {} : { uid: options.uid, gid: options.uid };
    const child: ChildProcess =
      options.shell === undefined
        ? spawn(process.execPath, argv, { env, ...ids })
        : spawn("sh", ["-c", `${options.shell}; exec "$0" "$@"`, process.execPath, ...argv], { env, ...ids });
    options.started?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk) => (stdout += chunk));
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
      if (options.killAt !== undefined && stderr.includes(`failpoint ${options.killAt}`))
        child.kill("SIGKILL");
      options.onStderr?.(stderr, child);
    });
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) =>
    /\.(upgrade|previous|rollback)-[0-9a-f]{12}$|upgrade-lock/.test(name),
  );
}

export interface UpgradeFixture {
  readonly server: ReleaseServer;
  readonly sigstore: LocalSigstore;
  readonly releases: Record<string, string>;
  /** Directories removed after the file's tests. */
  readonly scratch: string[];
  /** An ironclaw.cjs install of a release, as a user who unpacked the node archive has it. */
  install(version?: string, dir?: string): { dir: string; path: string; original: Buffer };
  upgradeArgs(...extra: string[]): string[];
  expectStillOld(install: { path: string; original: Buffer }): Promise<void>;
}

/** Registers the hooks that start Sigstore and the release server, and returns what tests use. */
export function useUpgradeFixture(options: ReleaseServerOptions = {}): UpgradeFixture {
  let sigstore: LocalSigstore | undefined;
  let server: ReleaseServer | undefined;
  const releases: Record<string, string> = {};
  const scratch: string[] = [];
  beforeAll(async () => {
    sigstore = await LocalSigstore.start();
    for (const version of [OLDER, OLD, NEW]) releases[version] = await signedRelease(sigstore, version);
    scratch.push(...Object.values(releases));
    server = await ReleaseServer.start(options);
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await sigstore?.stop();
    removeAll(...scratch);
  });
  beforeEach(() => {
    if (server === undefined) return;
    server.faults = {};
    server.served.length = 0;
    server.releases.clear();
    for (const [version, dir] of Object.entries(releases)) server.releases.set(`v${version}`, dir);
    server.latest = `v${NEW}`;
  });
  const fixture: UpgradeFixture = {
    get server() {
      if (server === undefined) throw new Error("the release server is not started");
      return server;
    },
    get sigstore() {
      if (sigstore === undefined) throw new Error("the local Sigstore is not started");
      return sigstore;
    },
    releases,
    scratch,
    install(version = OLD, into?: string) {
      const dir = into ?? mkdtempSync(join(tmpdir(), "ironclaw-installed-"));
      if (into === undefined) scratch.push(dir);
      const unpack = spawnSync("tar", [
        "-xzf",
        join(releases[version] ?? "", archive(version)),
        "-C",
        dir,
        "ironclaw.cjs",
      ]);
      expect(unpack.status).toBe(0);
      const path = join(dir, "ironclaw.cjs");
      return { dir, path, original: readFileSync(path) };
    },
    upgradeArgs: (...extra: string[]) => [
      "upgrade",
      "--base-url",
      fixture.server.url,
      "--repo",
      REPOSITORY,
      "--trusted-root",
      join(releases[NEW] ?? "", "trusted_root.json"),
      "--timeout",
      "3",
      ...extra,
    ],
    async expectStillOld(install) {
      expect(readFileSync(install.path).equals(install.original)).toBe(true);
      const version = await runInstalled(install.path, ["--version"]);
      expect(version.stdout).toBe(`${OLD}\n`);
    },
  };
  return fixture;
}
