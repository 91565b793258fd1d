import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { flipByte, reattest, releaseIdentityFor, resign, variant } from "./release-fixture.js";
import {
  archive,
  jsonl,
  leftovers,
  NEW,
  OLD,
  OLDER,
  runInstalled,
  useUpgradeFixture,
} from "./upgrade-harness.js";

const fixture = useUpgradeFixture();
const { releases, scratch } = fixture;
const installOld = () => fixture.install(OLD);
const upgradeArgs = fixture.upgradeArgs;
const expectStillOld = fixture.expectStillOld;

describe("ironclaw upgrade of an installed node bundle", () => {
  it("upgrades to the newer verified release, keeps the previous, and rolls back", async () => {
    const install = installOld();
    const upgraded = await runInstalled(install.path, upgradeArgs());
    expect(upgraded.stderr).toBe("");
    expect(upgraded.code).toBe(0);
    expect(upgraded.stdout).toMatch(
      new RegExp(
        `^upgraded ${install.path} from v${OLD} to v${NEW} \\(commit [0-9a-f]{40}\\), verified; the previous one is kept at ${install.path}\\.previous`,
      ),
    );
    expect((await runInstalled(install.path, ["--version"])).stdout).toBe(`${NEW}\n`);
    expect(readFileSync(`${install.path}.previous`).equals(install.original)).toBe(true);

    const rolled = await runInstalled(install.path, ["upgrade", "--rollback"]);
    expect(rolled.code).toBe(0);
    await expectStillOld(install);
    expect(leftovers(install.dir)).toEqual([]);
  }, 60_000);

  it("says when it is up to date, and --check reports a newer verified release without installing it", async () => {
    const install = installOld();
    fixture.server.latest = `v${OLD}`;
    const current = await runInstalled(install.path, upgradeArgs());
    expect(current.stdout).toBe(`ironclaw v${OLD} is up to date\n`);
    fixture.server.latest = `v${NEW}`;
    const check = await runInstalled(install.path, upgradeArgs("--check"));
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(
      new RegExp(
        `^ironclaw v${NEW} is available \\(installed v${OLD}\\); its signature and provenance verify`,
      ),
    );
    await expectStillOld(install);
  }, 60_000);

  it("reads the latest tag from a mirror that answers it as text", async () => {
    const install = installOld();
    fixture.server.faults = { latestAsText: true };
    expect((await runInstalled(install.path, upgradeArgs("--check"))).code).toBe(0);
  }, 30_000);

  describe("leaves the old build in place, saying what happened, when", () => {
    const cases: Array<[string, () => void | Promise<void>, number, RegExp]> = [
      [
        "the archive answers 404",
        () => {
          fixture.server.faults = { status: { [archive(NEW)]: 404 } };
        },
        3,
        /IC_NETWORK_STATUS: .*answered HTTP 404/,
      ],
      [
        "SHA256SUMS answers 500",
        () => {
          fixture.server.faults = { status: { SHA256SUMS: 500 } };
        },
        3,
        /IC_NETWORK_STATUS: .*SHA256SUMS answered HTTP 500/,
      ],
      [
        "the connection is cut half-way through the archive",
        () => {
          fixture.server.faults = { cutAfter: { [archive(NEW)]: 40_000 } };
        },
        3,
        /IC_NETWORK: fetching http:\/\/127\.0\.0\.1:\d+\/github-production-release-asset\/.* failed: the connection ended after \d+ of \d+ bytes/,
      ],
      [
        "the server is too slow",
        () => {
          fixture.server.faults = { delayMs: 5_000 };
        },
        3,
        /IC_NETWORK_TIMEOUT: fetching .*\/latest failed: nothing arrived for 3 s \(--timeout\)/,
      ],
      [
        "/latest redirects in a loop",
        () => {
          fixture.server.faults = { redirectLoop: true };
        },
        3,
        /IC_NETWORK_REDIRECTS: the release server redirects in a loop/,
      ],
      [
        "an older version is offered as latest",
        () => {
          fixture.server.latest = `v${OLDER}`;
        },
        1,
        /IC_UPGRADE_REFUSED: v0\.4\.0 is older than the installed v0\.5\.0/,
      ],
      [
        "the archive is tampered with",
        () => {
          const dir = variant(releases[NEW] ?? "", "tampered-archive");
          scratch.push(dir);
          flipByte(join(dir, archive(NEW)));
          fixture.server.releases.set(`v${NEW}`, dir);
        },
        1,
        /IC_UPGRADE_VERIFICATION: v0\.6\.0 did not verify, so nothing was installed:\n {2}ironclaw_0\.6\.0_node\.tar\.gz: checksum: IC_RELEASE_CHECKSUM_MISMATCH/,
      ],
      [
        "SHA256SUMS is tampered with",
        () => {
          const dir = variant(releases[NEW] ?? "", "tampered-sums");
          scratch.push(dir);
          const sums = readFileSync(join(dir, "SHA256SUMS"), "utf8");
          writeFileSync(
            join(dir, "SHA256SUMS"),
            sums.replace(/^./, (c) => (c === "a" ? "b" : "a")),
          );
          fixture.server.releases.set(`v${NEW}`, dir);
        },
        1,
        /signature: IC_SIGNATURE_ARTIFACT_MISMATCH/,
      ],
      [
        "the signature bundle is for another file",
        async () => {
          const dir = variant(releases[NEW] ?? "", "other-file");
          scratch.push(dir);
          const bundle = await fixture.sigstore.signMessage(
            Buffer.from("something else"),
            releaseIdentityFor(NEW),
          );
          writeFileSync(join(dir, "SHA256SUMS.sigstore.json"), JSON.stringify(bundle));
          fixture.server.releases.set(`v${NEW}`, dir);
        },
        1,
        /signature: IC_SIGNATURE_ARTIFACT_MISMATCH/,
      ],
      [
        "the signature comes from another repository",
        async () => {
          const dir = variant(releases[NEW] ?? "", "other-repo");
          scratch.push(dir);
          await resign(fixture.sigstore, dir, releaseIdentityFor(NEW, { repository: "evil/ironclaw" }), [
            archive(NEW),
            jsonl(NEW),
          ]);
          fixture.server.releases.set(`v${NEW}`, dir);
        },
        1,
        /signature: IC_POLICY_SIGNER_MISMATCH/,
      ],
      [
        "the signature comes from another workflow",
        async () => {
          const dir = variant(releases[NEW] ?? "", "other-workflow");
          scratch.push(dir);
          await resign(
            fixture.sigstore,
            dir,
            releaseIdentityFor(NEW, { workflowPath: ".github/workflows/nightly.yml" }),
            [archive(NEW), jsonl(NEW)],
          );
          fixture.server.releases.set(`v${NEW}`, dir);
        },
        1,
        /signature: IC_POLICY_SIGNER_MISMATCH/,
      ],
      [
        "the attestation is for another commit",
        async () => {
          const dir = variant(releases[NEW] ?? "", "other-commit");
          scratch.push(dir);
          const identity = releaseIdentityFor(NEW, { sha: "e".repeat(40) });
          await reattest(fixture.sigstore, dir, identity, [archive(NEW)], jsonl(NEW));
          await resign(fixture.sigstore, dir, releaseIdentityFor(NEW), [archive(NEW), jsonl(NEW)]);
          fixture.server.releases.set(`v${NEW}`, dir);
        },
        1,
        /provenance: IC_RELEASE_PROVENANCE: .*IC_POLICY_SOURCE_DIGEST_MISMATCH/,
      ],
      [
        "the file inside the archive has no provenance of its own",
        async () => {
          const dir = variant(releases[NEW] ?? "", "entry-unattested");
          scratch.push(dir);
          const identity = releaseIdentityFor(NEW);
          await reattest(fixture.sigstore, dir, identity, [archive(NEW)], jsonl(NEW));
          await resign(fixture.sigstore, dir, identity, [archive(NEW), jsonl(NEW)]);
          fixture.server.releases.set(`v${NEW}`, dir);
        },
        1,
        /ironclaw\.cjs: provenance: IC_RELEASE_PROVENANCE: no attestation names the artifact/,
      ],
    ];

    it.each(cases)(
      "%s",
      async (_what, arrange, code, message) => {
        const install = installOld();
        await arrange();
        const result = await runInstalled(install.path, upgradeArgs());
        expect(result.code, result.stderr).toBe(code);
        // The CLI's own one-line verdict, never a crash with a stack trace.
        expect(result.stderr).toMatch(/^ironclaw: error IC_[A-Z_]+: /);
        expect(result.stderr).not.toMatch(/\n +at /);
        expect(result.stderr).toMatch(message);
        await expectStillOld(install);
        expect(existsSync(`${install.path}.previous`)).toBe(false);
      },
      60_000,
    );

    it("the directory cannot take the new file (a full disk)", async () => {
      const install = installOld();
      // A file-size limit (in sh's 512-byte blocks) between the two sizes: the node archive downloads,
      // the bundle inside it cannot be written.
      const archiveBytes = statSync(join(releases[NEW] ?? "", archive(NEW))).size;
      const bundleBytes = install.original.length;
      expect(archiveBytes).toBeLessThan(bundleBytes);
      const blocks = Math.floor((archiveBytes + bundleBytes) / 2 / 512);
      const result = await runInstalled(install.path, upgradeArgs(), { shell: `ulimit -f ${blocks}` });
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(
        /IC_INSTALL_WRITE: cannot write next to .*; the installed ironclaw is unchanged/,
      );
      await expectStillOld(install);
      expect(leftovers(install.dir)).toEqual([]);
    }, 60_000);

    it("the temporary directory cannot take the download (a full disk)", async () => {
      const install = installOld();
      // 100 blocks (50 KiB): SHA256SUMS and the bundles fit, the archive does not.
      const result = await runInstalled(install.path, upgradeArgs(), { shell: "ulimit -f 100" });
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(/^ironclaw: error IC_INSTALL_WRITE: cannot write the download to /);
      expect(result.stderr).not.toMatch(/\n +at /);
      await expectStillOld(install);
      expect(leftovers(install.dir)).toEqual([]);
    }, 60_000);

    it.each(["after-download", "after-verify", "after-write", "after-backup"])(
      "the process is killed %s",
      async (step) => {
        const install = installOld();
        const result = await runInstalled(install.path, upgradeArgs(), {
          env: { IRONCLAW_FAILPOINT: step },
          killAt: step,
        });
        expect(result.signal).toBe("SIGKILL");
        await expectStillOld(install);
        // The next upgrade clears what the killed one left and completes.
        const again = await runInstalled(install.path, upgradeArgs());
        expect(again.code, again.stderr).toBe(0);
        expect(leftovers(install.dir)).toEqual([]);
      },
      60_000,
    );

    it("the process is killed right after the swap: the new build is whole and the previous kept", async () => {
      const install = installOld();
      const result = await runInstalled(install.path, upgradeArgs(), {
        env: { IRONCLAW_FAILPOINT: "after-swap" },
        killAt: "after-swap",
      });
      expect(result.signal).toBe("SIGKILL");
      expect((await runInstalled(install.path, ["--version"])).stdout).toBe(`${NEW}\n`);
      expect(readFileSync(`${install.path}.previous`).equals(install.original)).toBe(true);
    }, 60_000);
  });

  it("refuses a downgrade unless asked, and refuses a signed tag other than the one asked for", async () => {
    const install = installOld();
    const refused = await runInstalled(install.path, upgradeArgs("--version", `v${OLDER}`));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("IC_UPGRADE_REFUSED");
    // Mix and match: v0.6.0's genuine signed files, renamed and served as v0.6.1.
    const mixedDir = mkdtempSync(join(tmpdir(), "ironclaw-mixed-"));
    scratch.push(mixedDir);
    for (const name of readdirSync(releases[NEW] ?? "")) {
      writeFileSync(
        join(mixedDir, name.replace(NEW, "0.6.1")),
        readFileSync(join(releases[NEW] ?? "", name)),
      );
    }
    fixture.server.releases.set("v0.6.1", mixedDir);
    const mixed = await runInstalled(install.path, upgradeArgs("--version", "v0.6.1"));
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain("IC_RELEASE_TAG_MISMATCH: the signature is for v0.6.0; expected v0.6.1");
    await expectStillOld(install);
    const allowed = await runInstalled(
      install.path,
      upgradeArgs("--version", `v${OLDER}`, "--allow-downgrade"),
    );
    expect(allowed.code, allowed.stderr).toBe(0);
    expect((await runInstalled(install.path, ["--version"])).stdout).toBe(`${OLDER}\n`);
  }, 60_000);
});

describe("ironclaw upgrade outside an installed release", () => {
  it("refuses to touch a source checkout", async () => {
    const bin = new URL("../bin/ironclaw.js", import.meta.url).pathname;
    const result = await runInstalled(bin, ["upgrade", "--base-url", fixture.server.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("IC_UPGRADE_NOT_INSTALLED");
  });

  it("refuses plain HTTP to anything but loopback", async () => {
    const install = installOld();
    const result = await runInstalled(install.path, [
      "upgrade",
      "--base-url",
      "http://example.com/releases",
      "--timeout",
      "1",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("IC_NETWORK_INSECURE");
  });
});
