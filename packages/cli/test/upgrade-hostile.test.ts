import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OFF_HOST } from "./release-server.js";
import { archive, leftovers, NEW, OLD, OLDER, runInstalled, useUpgradeFixture } from "./upgrade-harness.js";

/**
 * `ironclaw upgrade` against a GitHub-shaped server that misbehaves: redirects it must refuse or
 * follow, bodies that never end, stalls, slow links, two upgrades at once, signals and a directory
 * it cannot write. Each case leaves the installed ironclaw as it was, unless the case says otherwise.
 */
const fixture = useUpgradeFixture();
const server = () => fixture.server;

/** A private TMPDIR per run, to see exactly what an upgrade leaves there. */
function privateTmp(): string {
  const dir = mkdtempSync(join(tmpdir(), "ironclaw-upgrade-tmp-"));
  fixture.scratch.push(dir);
  return dir;
}

/** The highest resident set the child reached, sampled from /proc while it runs (kB → bytes). */
function peakRss(child: { pid?: number | undefined }, until: Promise<unknown>): Promise<number> {
  let peak = 0;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm !== null) peak = Math.max(peak, Number(hwm[1]) * 1024);
    } catch {
      /* exited */
    }
  };
  const timer = setInterval(sample, 20);
  return until.then(() => {
    clearInterval(timer);
    return peak;
  });
}

describe("redirects", () => {
  it("follows GitHub's 302 to the object storage and reports each download's final URL", async () => {
    const install = fixture.install();
    const result = await runInstalled(install.path, fixture.upgradeArgs("--json"));
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      kind: string;
      downloads: Array<{ name: string; url: string; finalUrl: string; bytes: number }>;
    };
    expect(report.kind).toBe("upgraded");
    const byName = new Map(report.downloads.map((d) => [d.name, d]));
    expect([...byName.keys()].sort()).toEqual(
      [
        "latest",
        "SHA256SUMS",
        "SHA256SUMS.sigstore.json",
        archive(NEW),
        `ironclaw_${NEW}.intoto.jsonl`,
      ].sort(),
    );
    const asset = byName.get(archive(NEW));
    expect(asset?.url).toBe(`${server().url}/download/v${NEW}/${archive(NEW)}`);
    expect(asset?.finalUrl.startsWith(`${server().objectsUrl}/github-production-release-asset/`)).toBe(true);
    expect(asset?.bytes).toBe(readFileSync(join(fixture.releases[NEW] ?? "", archive(NEW))).length);
    expect(byName.get("latest")?.finalUrl).toBe(`${server().url}/tag/v${NEW}`);
    expect(server().served.some((r) => r.origin === "objects")).toBe(true);
  }, 60_000);

  it("follows five redirects, and refuses the sixth", async () => {
    const install = fixture.install();
    server().faults = { assets: { [archive(NEW)]: { kind: "redirect-chain", hops: 4 } } };
    const five = await runInstalled(install.path, fixture.upgradeArgs());
    expect(five.code, five.stderr).toBe(0);

    const again = fixture.install();
    server().faults = { assets: { [archive(NEW)]: { kind: "redirect-chain", hops: 5 } } };
    const six = await runInstalled(again.path, fixture.upgradeArgs());
    expect(six.code).toBe(3);
    expect(six.stderr).toMatch(/IC_NETWORK_REDIRECTS: .* redirected more than 5 times/);
    await fixture.expectStillOld(again);
  }, 60_000);

  it("refuses a download that redirects in a loop", async () => {
    const install = fixture.install();
    server().faults = { assets: { [archive(NEW)]: { kind: "redirect-loop" } } };
    const result = await runInstalled(install.path, fixture.upgradeArgs());
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("IC_NETWORK_REDIRECTS: the release server redirects in a loop");
    await fixture.expectStillOld(install);
  }, 30_000);

  it("refuses a loopback http base that redirects off this machine, before dialling it", async () => {
    const install = fixture.install();
    server().faults = { assets: { SHA256SUMS: { kind: "redirect-http-offhost" } } };
    const result = await runInstalled(install.path, fixture.upgradeArgs());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `IC_NETWORK_REDIRECT_REFUSED: ${server().url}/download/v${NEW}/SHA256SUMS redirected to http://${OFF_HOST}/`,
    );
    expect(result.stderr).toContain("leaves this machine");
    await fixture.expectStillOld(install);
    expect(server().downloadsOf(archive(NEW))).toEqual([]);
  }, 30_000);
});

describe("bodies bounded while they are read", () => {
  it("refuses a /latest that never ends, at 64 KiB", async () => {
    const install = fixture.install();
    server().faults = { latestEndless: true };
    const result = await runInstalled(install.path, fixture.upgradeArgs());
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      `IC_NETWORK_TOO_LARGE: ${server().url}/latest sent more than 65536 bytes`,
    );
  }, 30_000);

  it("refuses a /latest with a 64 KiB head", async () => {
    const install = fixture.install();
    server().faults = { latestHugeHeaders: true };
    const result = await runInstalled(install.path, fixture.upgradeArgs());
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("the response headers are over 16384 bytes");
  }, 30_000);

  it("refuses a SHA256SUMS that never ends, at 16 MiB", async () => {
    const install = fixture.install();
    server().faults = { assets: { SHA256SUMS: { kind: "endless" } } };
    const result = await runInstalled(install.path, fixture.upgradeArgs());
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/IC_NETWORK_TOO_LARGE: .* sent more than 16777216 bytes/);
    await fixture.expectStillOld(install);
  }, 30_000);

  it("refuses an archive that announces a terabyte before reading any of it", async () => {
    const install = fixture.install();
    server().faults = { assets: { [archive(NEW)]: { kind: "huge-length" } } };
    const started = Date.now();
    const result = await runInstalled(install.path, fixture.upgradeArgs());
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/IC_NETWORK_TOO_LARGE: .* announces 1099511627776 bytes/);
    expect(Date.now() - started).toBeLessThan(15_000);
    await fixture.expectStillOld(install);
  }, 30_000);

  it("stops an archive that never ends at 512 MiB, within 60 s and 200 MB of memory, and leaves nothing", async () => {
    const install = fixture.install();
    const tmp = privateTmp();
    server().faults = { assets: { [archive(NEW)]: { kind: "endless" } } };
    const started = Date.now();
    let child: { pid?: number | undefined } = {};
    const run = runInstalled(install.path, fixture.upgradeArgs(), {
      env: { TMPDIR: tmp },
      started: (c) => {
        child = c;
      },
    });
    const peak = await peakRss(child, run);
    const result = await run;
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/IC_NETWORK_TOO_LARGE: .* sent more than 536870912 bytes/);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(200 * 1000 * 1000);
    expect(readdirSync(tmp)).toEqual([]);
    await fixture.expectStillOld(install);
  }, 90_000);
});

describe("what a hostile server can make it print", () => {
  /** C0 and C1 controls (ESC, BEL, CSI): a terminal would act on them. */
  const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u;

  it("prints a reason phrase with terminal controls escaped, never raw", async () => {
    const install = fixture.install();
    // A title change and a screen clear, hidden in the reason phrase of a 404.
    server().faults = { latestHead: "404 Not\u001b]0;pwned\u0007\u001b[2J Found" };
    const result = await runInstalled(install.path, fixture.upgradeArgs());
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain(`${server().url}/latest answered HTTP 404`);
    expect(result.stderr).not.toMatch(CONTROL);
    await fixture.expectStillOld(install);
  }, 30_000);

  it("prints a refused tag with C1 controls escaped too", async () => {
    const install = fixture.install();
    server().faults = { latestAsText: true };
    server().latest = "v9.9.9\u009b2J";
    const result = await runInstalled(install.path, fixture.upgradeArgs());
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain("the release server named the latest release");
    expect(result.stderr).not.toMatch(CONTROL);
    await fixture.expectStillOld(install);
  }, 30_000);
});

describe("timeouts are idle timeouts", () => {
  it("gives up on an archive that stalls, after --timeout seconds without a byte", async () => {
    const install = fixture.install();
    server().faults = { assets: { [archive(NEW)]: { kind: "stall", afterBytes: 10_000 } } };
    const started = Date.now();
    const result = await runInstalled(install.path, [...fixture.upgradeArgs(), "--timeout", "2"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /IC_NETWORK_TIMEOUT: fetching .*github-production-release-asset.* nothing arrived for 2 s/,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    await fixture.expectStillOld(install);
  }, 30_000);

  it("finishes a download that takes several times --timeout but never pauses that long", async () => {
    const install = fixture.install();
    const size = readFileSync(join(fixture.releases[NEW] ?? "", archive(NEW))).length;
    // About four seconds for the archive, with --timeout 1.
    const bytesPerSecond = Math.ceil(size / 4);
    server().faults = { assets: { [archive(NEW)]: { kind: "drip", bytesPerSecond } } };
    const started = Date.now();
    const result = await runInstalled(install.path, [...fixture.upgradeArgs(), "--timeout", "1"]);
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThan(3_000);
    expect(result.stderr).toBe("");
  }, 60_000);
});

describe("one upgrade per installed file", () => {
  it("refuses a second upgrade while one runs, and takes over the lock of one that was killed", async () => {
    const install = fixture.install();
    const second: { started: boolean; run?: ReturnType<typeof runInstalled> } = { started: false };
    const first = runInstalled(install.path, fixture.upgradeArgs(), {
      env: { IRONCLAW_FAILPOINT: "after-download" },
      onStderr: (stderr, child) => {
        if (stderr.includes("failpoint after-download") && !second.started) {
          second.started = true;
          second.run = runInstalled(install.path, fixture.upgradeArgs()).then((result) => {
            child.kill("SIGKILL");
            return result;
          });
        }
      },
    });
    const killed = await first;
    expect(killed.signal).toBe("SIGKILL");
    const busy = await second.run;
    expect(busy?.code).toBe(3);
    expect(busy?.stderr).toMatch(
      /IC_UPGRADE_BUSY: another ironclaw upgrade or rollback \(pid \d+\) is working on /,
    );
    await fixture.expectStillOld(install);
    // The killed run's lock is stale: the next run takes it over and completes.
    expect(readdirSync(install.dir)).toContain(".ironclaw.cjs.upgrade-lock");
    const third = await runInstalled(install.path, fixture.upgradeArgs());
    expect(third.code, third.stderr).toBe(0);
    expect(leftovers(install.dir)).toEqual([]);
  }, 60_000);

  it("takes over a lock whose pid now belongs to another process (a pid reused after a crash)", async () => {
    const install = fixture.install();
    writeFileSync(
      join(install.dir, ".ironclaw.cjs.upgrade-lock"),
      JSON.stringify({ pid: process.pid, started: "x:1" }),
    );
    const result = await runInstalled(install.path, fixture.upgradeArgs());
    expect(result.code, result.stderr).toBe(0);
    expect(leftovers(install.dir)).toEqual([]);
  }, 60_000);

  it.each([
    ["a FIFO", (path: string) => execFileSync("mkfifo", [path]), "is not a regular file"],
    ["a link to /dev/zero", (path: string) => symlinkSync("/dev/zero", path), "is a symbolic link"],
  ])(
    "refuses, at once, %s planted where the lock goes",
    async (_what, plant, message) => {
      const install = fixture.install();
      const lock = join(install.dir, ".ironclaw.cjs.upgrade-lock");
      plant(lock);
      const started = Date.now();
      const result = await runInstalled(install.path, fixture.upgradeArgs());
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(`IC_INSTALL_WRITE: ${lock} ${message}`);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(server().served).toEqual([]);
      await fixture.expectStillOld(install);
    },
    30_000,
  );

  it("compares with the installed file, not the running one: a stale run cannot downgrade", async () => {
    // The running process is v0.4.0 asking for v0.5.0; meanwhile another run installs v0.6.0.
    const install = fixture.install(OLDER);
    let stale: ReturnType<typeof runInstalled> | undefined;
    const held = new Promise<{ kill: (signal: NodeJS.Signals) => void }>((resolve) => {
      stale = runInstalled(install.path, fixture.upgradeArgs("--version", `v${OLD}`), {
        env: { IRONCLAW_FAILPOINT: "before-lock" },
        onStderr: (stderr, child) => {
          if (stderr.includes("failpoint before-lock")) resolve({ kill: (s) => child.kill(s) });
        },
      });
    });
    const child = await held;
    const newer = await runInstalled(install.path, fixture.upgradeArgs());
    expect(newer.code, newer.stderr).toBe(0);
    child.kill("SIGUSR2");
    const result = await stale;
    expect(result?.code).toBe(1);
    expect(result?.stderr).toContain(`IC_UPGRADE_REFUSED: v${OLD} is older than the installed v${NEW}`);
    expect((await runInstalled(install.path, ["--version"])).stdout).toBe(`${NEW}\n`);
    // .previous holds exactly what the completed upgrade replaced.
    expect(readFileSync(`${install.path}.previous`).equals(install.original)).toBe(true);
  }, 60_000);
});

describe("a file replaced under a running upgrade", () => {
  it("is not replaced in turn: an installer that ignores the lock put a newer ironclaw there", async () => {
    // The running upgrade (v0.4.0 to v0.5.0, under its lock) has verified v0.5.0; meanwhile install.sh,
    // which takes no lock, renames v0.6.0 into place. Swapping now would install an older release.
    const install = fixture.install(OLDER);
    const newer = fixture.install(NEW);
    let run: ReturnType<typeof runInstalled> | undefined;
    const paused = new Promise<{ kill: (signal: NodeJS.Signals) => void }>((resolve) => {
      run = runInstalled(install.path, fixture.upgradeArgs("--version", `v${OLD}`), {
        env: { IRONCLAW_FAILPOINT: "after-verify" },
        onStderr: (stderr, child) => {
          if (stderr.includes("failpoint after-verify")) resolve({ kill: (s) => child.kill(s) });
        },
      });
    });
    const child = await paused;
    writeFileSync(`${install.path}.installing`, newer.original);
    renameSync(`${install.path}.installing`, install.path);
    // The failpoint announces itself just before it listens for SIGUSR2: give it that moment.
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill("SIGUSR2");
    const result = await run;
    expect(result?.code, result?.stderr).toBe(1);
    expect(result?.stderr).toContain(`IC_UPGRADE_REFUSED: ${install.path} changed while this upgrade ran`);
    expect((await runInstalled(install.path, ["--version"])).stdout).toBe(`${NEW}\n`);
    expect(existsSync(`${install.path}.previous`)).toBe(false);
    expect(leftovers(install.dir)).toEqual([]);
  }, 60_000);
});

describe("what an upgrade leaves behind", () => {
  it.each(["SIGINT", "SIGTERM"] as const)(
    "%s during the download removes the temporary files and the lock, and the process dies of it",
    async (signal) => {
      const install = fixture.install();
      const tmp = privateTmp();
      server().faults = { assets: { [archive(NEW)]: { kind: "drip", bytesPerSecond: 4096 } } };
      let sent = 0;
      const result = await runInstalled(install.path, fixture.upgradeArgs(), {
        env: { TMPDIR: tmp },
        started: (child) => {
          const poll = setInterval(() => {
            const downloading = server().served.some(
              (r) => r.origin === "objects" && r.path.includes(`name=${archive(NEW)}`),
            );
            if (downloading && readdirSync(tmp).length > 0) {
              clearInterval(poll);
              setTimeout(() => {
                sent = Date.now();
                child.kill(signal);
              }, 300);
            }
          }, 50);
          child.on("close", () => clearInterval(poll));
        },
      });
      expect(result.signal).toBe(signal);
      expect(sent).toBeGreaterThan(0);
      expect(readdirSync(tmp)).toEqual([]);
      expect(leftovers(install.dir)).toEqual([]);
      await fixture.expectStillOld(install);
    },
    60_000,
  );

  it("SIGINT during `upgrade --check` removes its temporary files too", async () => {
    const install = fixture.install();
    const tmp = privateTmp();
    // --check downloads SHA256SUMS, its bundle and the attestations into a temporary directory.
    server().faults = { assets: { "SHA256SUMS.sigstore.json": { kind: "drip", bytesPerSecond: 512 } } };
    const result = await runInstalled(install.path, fixture.upgradeArgs("--check"), {
      env: { TMPDIR: tmp },
      started: (child) => {
        const poll = setInterval(() => {
          const downloading = server().served.some(
            (r) => r.origin === "objects" && r.path.includes("name=SHA256SUMS.sigstore.json"),
          );
          if (downloading && readdirSync(tmp).length > 0) {
            clearInterval(poll);
            setTimeout(() => child.kill("SIGINT"), 300);
          }
        }, 50);
        child.on("close", () => clearInterval(poll));
      },
    });
    expect(result.signal).toBe("SIGINT");
    expect(readdirSync(tmp)).toEqual([]);
    await fixture.expectStillOld(install);
  }, 60_000);

  it.each([
    ["a regular file", (dir: string) => writeFileSync(join(dir, "tmp"), "")],
    ["a FIFO", (dir: string) => execFileSync("mkfifo", [join(dir, "tmp")])],
    ["a symbolic link loop", (dir: string) => symlinkSync("tmp", join(dir, "tmp"))],
  ])(
    "fails with a coded error, naming TMPDIR, when TMPDIR is %s",
    async (_kind, make) => {
      const install = fixture.install();
      const parent = privateTmp();
      make(parent);
      const result = await runInstalled(install.path, fixture.upgradeArgs(), {
        env: { TMPDIR: join(parent, "tmp") },
      });
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toContain(
        `IC_INSTALL_WRITE: cannot create a temporary directory in ${join(parent, "tmp")}`,
      );
      expect(result.stderr).toContain("set TMPDIR");
      await fixture.expectStillOld(install);
    },
    30_000,
  );

  it("checks that the install directory is writable before downloading anything", async () => {
    // Another user runs an ironclaw that root installed: the directory is not theirs to write.
    const parent = mkdtempSync(join(tmpdir(), "ironclaw-root-owned-"));
    fixture.scratch.push(parent);
    chmodSync(parent, 0o755);
    const dir = join(parent, "bin");
    mkdirSync(dir, { mode: 0o755 });
    const install = fixture.install(OLD, dir);
    const tmp = privateTmp();
    chmodSync(tmp, 0o1777);
    const result = await runInstalled(install.path, fixture.upgradeArgs(), {
      uid: 65534,
      env: { TMPDIR: tmp, HOME: tmp },
    });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain(
      `IC_INSTALL_WRITE: cannot write in ${dir}, where ironclaw.cjs would be replaced`,
    );
    expect(result.stderr).toContain("nothing was downloaded");
    expect(server().served).toEqual([]);
    await fixture.expectStillOld(install);
  }, 30_000);

  it("keeps a symbolic link to the install a link, and replaces its target", async () => {
    const parent = mkdtempSync(join(tmpdir(), "ironclaw-linked-"));
    fixture.scratch.push(parent);
    const lib = join(parent, "lib");
    const bin = join(parent, "bin");
    mkdirSync(lib);
    mkdirSync(bin);
    const install = fixture.install(OLD, lib);
    const link = join(bin, "ironclaw.cjs");
    symlinkSync("../lib/ironclaw.cjs", link);
    const result = await runInstalled(link, fixture.upgradeArgs());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`upgraded ${install.path} from v${OLD} to v${NEW}`);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect((await runInstalled(link, ["--version"])).stdout).toBe(`${NEW}\n`);
    expect(readFileSync(`${install.path}.previous`).equals(install.original)).toBe(true);
    expect(readdirSync(bin)).toEqual(["ironclaw.cjs"]);
  }, 60_000);
});
