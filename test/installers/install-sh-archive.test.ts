import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { removeAll } from "../../packages/cli/test/release-fixture.js";
import { ReleaseServer } from "../../packages/cli/test/release-server.js";
import { findSystemTool, haveSystemTools } from "../support/system-tools.js";
import {
  BASE_TOOLS,
  runInstaller,
  Sandbox,
  SHELLS,
  type Shell,
  scratch,
  sha256Line,
  type TarEntry,
  tarGz,
  toolDir,
} from "./harness.js";

// What install.sh takes out of an archive whose checksum matched (checksum-only mode: SHA256SUMS is
// the attacker's too), with GNU tar and with BusyBox tar, whose listing hides absolute and ".." names;
// and its anti-rollback check against the ironclaw already installed. The archives are made here,
// entry by entry, since no tool writes these hostile ones.
const VERSION = "0.7.0";
const TAG = `v${VERSION}`;
const ARCHIVE = `ironclaw_${VERSION}_linux_amd64.tar.gz`;
const supported =
  process.platform === "linux" &&
  process.arch === "x64" &&
  haveSystemTools("install.sh on hostile archives", ["dash", "busybox", "curl", "sha256sum"]);

let work: string;
let server: ReleaseServer;
const TARS = ["GNU tar", "BusyBox tar", "bsdtar"] as const;
type Tar = (typeof TARS)[number];
const paths: Record<Tar, string> = { "GNU tar": "", "BusyBox tar": "", bsdtar: "" };
// bsdtar (macOS's tar) lists dates as "Jan 31 12:00" or "Jan 31  2023", not as GNU and BusyBox do.
const haveBsdtar = supported && haveSystemTools("install.sh with bsdtar on hostile archives", ["bsdtar"]);
const tarsHere = TARS.filter((tar) => tar !== "bsdtar" || haveBsdtar);

beforeAll(async () => {
  if (!supported) return;
  work = scratch("ironclaw-installers-archive-");
  server = await ReleaseServer.start();
  paths["GNU tar"] = toolDir(work, [...BASE_TOOLS, "curl", "sha256sum"]);
  // BusyBox's tar and gzip (and the rest of its userland), with curl to download.
  paths["BusyBox tar"] = toolDir(
    work,
    ["curl"],
    {},
    Object.fromEntries(
      [...BASE_TOOLS, "sha256sum"].filter((t) => t !== "curl").map((t) => [t, "/usr/bin/busybox"]),
    ),
  );
  if (haveBsdtar)
    paths.bsdtar = toolDir(
      work,
      [...BASE_TOOLS, "curl", "sha256sum"],
      {},
      { tar: findSystemTool("bsdtar") ?? "" },
    );
});

afterAll(async () => {
  if (!supported) return;
  await server.stop();
  removeAll(work);
});

afterEach(() => {
  if (!supported) return;
  server.releases.clear();
  server.latest = "";
});

/** Serves a release whose archive has these entries, and a SHA256SUMS that matches it. */
function serveArchive(entries: readonly TarEntry[], version = VERSION): void {
  const dir = scratch("ironclaw-installer-archive-");
  const archive = tarGz(entries);
  const name = `ironclaw_${version}_linux_amd64.tar.gz`;
  writeFileSync(join(dir, name), archive);
  writeFileSync(join(dir, "SHA256SUMS"), sha256Line(name, archive));
  // Stand-ins so an earlier `ironclaw` that verifies finds what it asks for.
  writeFileSync(join(dir, "SHA256SUMS.sigstore.json"), "{}");
  writeFileSync(join(dir, `ironclaw_${version}.intoto.jsonl`), "{}\n");
  server.releases.set(`v${version}`, dir);
  server.latest = `v${version}`;
}

async function install(shell: Shell, path: string, sandbox: Sandbox, env: Record<string, string> = {}) {
  const result = await runInstaller(shell, {
    env: sandbox.env(path, {
      IRONCLAW_BASE_URL: server.url,
      IRONCLAW_NO_MODIFY_PATH: "1",
      IRONCLAW_VERSION: VERSION,
      ...env,
    }),
    cwd: sandbox.cwd,
  });
  return result;
}

const script = (body: string) => `#!/bin/sh\n${body}\n`;

describe
  .runIf(supported)
  .each(SHELLS.flatMap((shell) => tarsHere.map((tar) => [`${shell.name} with ${tar}`, shell, tar] as const)))(
  "install.sh takes only a regular ironclaw out of the archive, under %s",
  (_name, shell, tar) => {
    /** Runs the install and checks that it was refused with this message, leaving nothing behind. */
    async function expectArchiveRefused(entries: readonly TarEntry[], message: string | RegExp) {
      serveArchive(entries);
      const sandbox = new Sandbox(work);
      const outcome = await install(shell, paths[tar], sandbox);
      expect(outcome.code, outcome.stdout + outcome.stderr).toBe(1);
      expect(outcome.stdout).toContain("Checksum OK");
      if (typeof message === "string") expect(outcome.stderr).toContain(message);
      else expect(outcome.stderr).toMatch(message);
      expect(outcome.stdout).not.toContain("Installed ironclaw");
      expect(sandbox.installed()).toEqual([]);
      expect(sandbox.leftInTmp()).toEqual([]);
      return sandbox;
    }

    it("installs a plain archive (the check is not a refusal of everything)", async () => {
      serveArchive([
        { name: "LICENSE", data: "MIT\n", mode: 0o644 },
        { name: "ironclaw", data: script(`echo ${VERSION}`) },
      ]);
      const sandbox = new Sandbox(work);
      const outcome = await install(shell, paths[tar], sandbox);
      expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
      expect(sandbox.installed().sort()).toEqual(["bin", "bin/ironclaw"]);
    });

    it("refuses an ironclaw hard-linked to a file outside: that file is never chmod'ed or run", async () => {
      // The hard-link attack: tar would make `ironclaw` another name for this file, and the installer
      // would then make it executable and run it to ask its version.
      const outside = join(work, `victim-${shell.name.replace(" ", "-")}-${tar.replace(" ", "-")}`);
      const marker = `${outside}.ran`;
      writeFileSync(outside, script(`touch ${marker}\necho ${VERSION}`), { mode: 0o644 });
      const sandbox = await expectArchiveRefused(
        [{ name: "ironclaw", hardlinkTo: outside }],
        `${ARCHIVE} holds a link or special file`,
      );
      expect(statSync(outside).mode & 0o777).toBe(0o644);
      expect(existsSync(marker)).toBe(false);
      expect(readFileSync(outside, "utf8")).toContain("touch");
      sandbox.remove();
    });

    it("refuses an archive with any link in it, even beside a regular ironclaw", async () => {
      for (const link of [
        { name: "README", symlinkTo: "/etc/passwd" },
        { name: "LICENSE", hardlinkTo: "ironclaw" },
      ]) {
        await expectArchiveRefused(
          [{ name: "ironclaw", data: script(`echo ${VERSION}`) }, link],
          `${ARCHIVE} holds a link or special file`,
        );
      }
    });

    it("refuses an ironclaw that is a symbolic link, or a FIFO", async () => {
      await expectArchiveRefused(
        [{ name: "ironclaw", symlinkTo: "/bin/sh" }],
        `${ARCHIVE} holds a link or special file`,
      );
      await expectArchiveRefused(
        [{ name: "ironclaw", fifo: true }],
        `${ARCHIVE} holds a link or special file`,
      );
    });

    it("refuses two regular ironclaw entries (tar would keep the last), and ignores a lookalike name", async () => {
      await expectArchiveRefused(
        [
          { name: "ironclaw", data: script(`echo ${VERSION}`) },
          { name: "ironclaw", data: script("echo 6.6.6") },
        ],
        `${ARCHIVE} holds 2 entries named 'ironclaw', expected exactly one`,
      );
      // A Cyrillic "с" is another name: never counted, never extracted.
      serveArchive([
        { name: "ironclaw", data: script(`echo ${VERSION}`) },
        { name: "iron\u0441law", data: script("echo 6.6.6") },
      ]);
      const sandbox = new Sandbox(work);
      const outcome = await install(shell, paths[tar], sandbox);
      expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
      expect(sandbox.installed().sort()).toEqual(["bin", "bin/ironclaw"]);
      sandbox.remove();
    });

    it("refuses a hard link whose name carries a newline and a forged listing line", async () => {
      // BusyBox tar lists names raw: the link's second line looks like a regular ironclaw, but the
      // " -> " that marks the link still ends it.
      const outside = join(work, `forged-${shell.name.replace(" ", "-")}-${tar.replace(" ", "-")}`);
      writeFileSync(outside, script(`echo ${VERSION}`), { mode: 0o644 });
      await expectArchiveRefused(
        [{ name: "x\n-rwxr-xr-x 0/0 5 2023-11-14 22:13:20 ironclaw", hardlinkTo: outside }],
        /holds a link or special file|holds 0 entries named 'ironclaw'/,
      );
      expect(statSync(outside).mode & 0o777).toBe(0o644);
    });

    it.each([
      ["an absolute", "/tmp/ironclaw-installer-escaped-abs"],
      ["a ../", "../../../ironclaw-installer-escaped"],
      ["a .. in the middle", "a/../../ironclaw-installer-escaped"],
    ])("refuses %s entry name, which BusyBox tar's listing would hide", async (_kind, entry) => {
      const sandbox = await expectArchiveRefused(
        [
          { name: "ironclaw", data: script(`echo ${VERSION}`) },
          { name: entry, data: "escaped\n" },
        ],
        /which points outside the directory it is extracted into|An entry whose name tar had to change points outside/,
      );
      expect(existsSync("/tmp/ironclaw-installer-escaped-abs")).toBe(false);
      expect(existsSync(join(sandbox.root, "ironclaw-installer-escaped"))).toBe(false);
      sandbox.remove();
    });
  },
);

describe.runIf(supported)("install.sh writes the new ironclaw only into a file it created", () => {
  it("ignores a symbolic link planted where it stages the copy: the link's target is untouched", async () => {
    // Another user who can write in the install directory guesses the staging name (it held the
    // installer's pid) and plants a link there to a file of the installing user's.
    serveArchive([{ name: "ironclaw", data: script(`echo ${VERSION}`) }]);
    const sandbox = new Sandbox(work);
    mkdirSync(sandbox.installDir, { recursive: true });
    const victim = join(sandbox.home, ".bashrc");
    writeFileSync(victim, "# the user's own\n", { mode: 0o644 });
    // exec keeps the pid, so the link is exactly where a pid-named staging file would go.
    const planting = {
      name: "dash",
      argv: [
        "/usr/bin/dash",
        "-c",
        '/bin/ln -s "$VICTIM" "$IRONCLAW_INSTALL_DIR/.ironclaw.install.$$" && exec /usr/bin/dash "$0"',
      ],
    } as unknown as Shell;
    const outcome = await runInstaller(planting, {
      env: sandbox.env(paths["GNU tar"], {
        IRONCLAW_BASE_URL: server.url,
        IRONCLAW_NO_MODIFY_PATH: "1",
        IRONCLAW_VERSION: VERSION,
        VICTIM: victim,
      }),
      cwd: sandbox.cwd,
    });
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
    expect(readFileSync(victim, "utf8")).toBe("# the user's own\n");
    expect(statSync(victim).mode & 0o777).toBe(0o644);
    const installed = join(sandbox.installDir, "ironclaw");
    expect(lstatSync(installed).isFile()).toBe(true);
    expect(spawnSync(installed, ["--version"], { encoding: "utf8" }).stdout.trim()).toBe(VERSION);
    sandbox.remove();
  });
});

describe.runIf(supported).each(SHELLS)("install.sh anti-rollback under $name", (shell) => {
  /** A sandbox whose install directory holds an ironclaw that says this version. */
  function withInstalled(version: string): Sandbox {
    const sandbox = new Sandbox(work);
    mkdirSync(sandbox.installDir, { recursive: true });
    // It answers --version, and as a verifier says yes to everything: it stands for an earlier install.
    writeFileSync(
      join(sandbox.installDir, "ironclaw"),
      script(`case $1 in --version) echo ${version} ;; *) exit 0 ;; esac`),
      { mode: 0o755 },
    );
    return sandbox;
  }

  const installedVersion = (sandbox: Sandbox) =>
    spawnSync(join(sandbox.installDir, "ironclaw"), ["--version"], { encoding: "utf8" }).stdout.trim();

  it.each(["0.9.0", "0.10.0", "1.0.0-rc.1", "0.7.1-alpha"])(
    "refuses to replace a newer ironclaw %s with the release 0.7.0, before downloading it",
    async (newer) => {
      serveArchive([{ name: "ironclaw", data: script(`echo ${VERSION}`) }]);
      const sandbox = withInstalled(newer);
      const before = server.downloadsOf(ARCHIVE).length;
      const outcome = await install(shell, paths["GNU tar"], sandbox);
      expect(outcome.code, outcome.stdout + outcome.stderr).toBe(1);
      expect(outcome.stderr).toContain(
        `${join(sandbox.installDir, "ironclaw")} is ironclaw ${newer}, newer than the release ${TAG}`,
      );
      expect(outcome.stderr).toContain("set IRONCLAW_ALLOW_DOWNGRADE=1");
      expect(server.downloadsOf(ARCHIVE).length).toBe(before);
      expect(installedVersion(sandbox)).toBe(newer);
      expect(sandbox.leftInTmp()).toEqual([]);
      sandbox.remove();
    },
  );

  it("installs the older release over a newer one with IRONCLAW_ALLOW_DOWNGRADE=1, and says so", async () => {
    serveArchive([{ name: "ironclaw", data: script(`echo ${VERSION}`) }]);
    const sandbox = withInstalled("0.9.0");
    const outcome = await install(shell, paths["GNU tar"], sandbox, { IRONCLAW_ALLOW_DOWNGRADE: "1" });
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
    expect(outcome.stdout).toContain("Downgrading:");
    expect(installedVersion(sandbox)).toBe(VERSION);
    sandbox.remove();
  });

  it.each(["0.6.9", "0.7.0", "0.7.0-rc.2", "0.0.1"])(
    "replaces an older or equal ironclaw %s with 0.7.0",
    async (older) => {
      serveArchive([{ name: "ironclaw", data: script(`echo ${VERSION}`) }]);
      const sandbox = withInstalled(older);
      const outcome = await install(shell, paths["GNU tar"], sandbox);
      expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
      expect(outcome.stdout).not.toContain("Downgrading");
      expect(installedVersion(sandbox)).toBe(VERSION);
      sandbox.remove();
    },
  );

  it("judges the latest release too: a newer install refuses the latest when it is older", async () => {
    serveArchive([{ name: "ironclaw", data: script(`echo ${VERSION}`) }]);
    const sandbox = withInstalled("0.8.0");
    const { IRONCLAW_VERSION: _v, ...env } = sandbox.env(paths["GNU tar"], {
      IRONCLAW_BASE_URL: server.url,
      IRONCLAW_NO_MODIFY_PATH: "1",
    });
    const outcome = await runInstaller(shell, { env, cwd: sandbox.cwd });
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(1);
    expect(outcome.stderr).toContain("is ironclaw 0.8.0, newer than the release v0.7.0");
    sandbox.remove();
  });
});
