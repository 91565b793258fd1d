import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { skipRealSandbox } from "../../sandbox/test/sandbox-gate.js";

const root = new URL("../../../", import.meta.url).pathname;
const version = (
  JSON.parse(readFileSync(join(root, "packages", "cli", "package.json"), "utf8")) as { version: string }
).version;
const work = mkdtempSync(join(tmpdir(), "ironclaw-release-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function script(name: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(root, "scripts", name), ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
}

function ironclaw(args: string[], cwd: string) {
  return spawnSync(process.execPath, [join(root, "packages", "cli", "bin", "ironclaw.js"), ...args], {
    cwd,
    encoding: "utf8",
  });
}

describe("npm run release:repro", () => {
  it("finds two builds of the commit identical", () => {
    const result = script("release-repro.mjs", ["--targets", "node"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^reproducible: both builds of [0-9a-f]{40} are identical, byte for byte/);
  }, 120_000);

  it("detects a difference injected into the second build, naming the files and offsets", () => {
    const result = script("release-repro.mjs", ["--targets", "node", "--inject-difference"]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(
      /^NOT reproducible: 2 file\(s\) differ between the two builds of [0-9a-f]{40}:/,
    );
    expect(result.stdout).toMatch(/\n {2}SHA256SUMS: bytes differ from offset \d+/);
    expect(result.stdout).toMatch(
      new RegExp(
        `\\n {2}ironclaw_${version.replaceAll(".", "\\.")}_node\\.tar\\.gz: bytes differ from offset \\d+`,
      ),
    );
  }, 120_000);
});

// The release carries a containment report, made in real sandboxes.
describe.runIf(process.platform === "linux" && process.arch === "x64" && !skipRealSandbox)(
  "npm run release:local",
  () => {
    const out = join(work, "release");
    const repository = "acme/ironclaw-fork";
    const identity = `https://github.com/${repository}/.github/workflows/release.yml@refs/tags/v${version}`;
    const linux = `ironclaw_${version}_linux_amd64.tar.gz`;

    it("builds and signs a release that our own verifier accepts", () => {
      // The release workflow ships the sandbox self-test's report; so does this release.
      const report = join(work, "containment.json");
      const containment = script("containment.mjs", ["--out", report]);
      expect(containment.status, containment.stdout + containment.stderr).toBe(0);
      const result = script("release-local.mjs", [
        "--containment",
        report,
        "--out",
        out,
        "--targets",
        "linux_amd64,node",
        "--repo",
        repository,
        "--allow-dirty",
      ]);
      expect(result.status, result.stderr).toBe(0);
      for (const asset of [
        linux,
        `ironclaw_${version}_node.tar.gz`,
        `ironclaw_${version}.intoto.jsonl`,
        "SHA256SUMS",
        "SHA256SUMS.sigstore.json",
        "trusted_root.json",
        "install.sh",
        "install.ps1",
        `ironclaw_${version}_containment.json`,
      ]) {
        expect(existsSync(join(out, asset)), asset).toBe(true);
      }
      expect(result.stdout).toContain(`signer: ${identity}`);
      // DESIGN §2: SHA256SUMS lists the installers, copied byte for byte from the commit.
      const listed = readFileSync(join(out, "SHA256SUMS"), "utf8")
        .split("\n")
        .map((line) => line.slice(66));
      for (const installer of ["install.sh", "install.ps1"]) {
        expect(listed, installer).toContain(installer);
        expect(
          readFileSync(join(out, installer)).equals(readFileSync(join(root, installer))),
          installer,
        ).toBe(true);
      }

      expect(ironclaw(["checksums", "verify", "--dir", out], out).status).toBe(0);
      const signature = ironclaw(
        [
          "verify-bundle",
          "--bundle",
          "SHA256SUMS.sigstore.json",
          "--trusted-root",
          "trusted_root.json",
          "--certificate-identity",
          identity,
          "--certificate-oidc-issuer",
          "https://token.actions.githubusercontent.com",
          "SHA256SUMS",
        ],
        out,
      );
      expect(signature.status, signature.stderr).toBe(0);
      const provenance = ironclaw(
        [
          "attestation",
          "verify",
          linux,
          "--bundle",
          `ironclaw_${version}.intoto.jsonl`,
          "--trusted-root",
          "trusted_root.json",
          "--repo",
          repository,
          "--source-ref",
          `refs/tags/v${version}`,
          "--deny-self-hosted-runners",
        ],
        out,
      );
      expect(provenance.status, provenance.stdout + provenance.stderr).toBe(0);
      expect(provenance.stdout).toContain("✓ line");
      // The installers and the containment report are signed like everything else: checksum, signature
      // and provenance.
      const installers = ironclaw(
        [
          "verify",
          "install.sh",
          "install.ps1",
          `ironclaw_${version}_containment.json`,
          "--repo",
          repository,
          "--trusted-root",
          "trusted_root.json",
        ],
        out,
      );
      expect(installers.status, installers.stdout + installers.stderr).toBe(0);
      expect(installers.stdout).toContain("install.sh");
      expect(installers.stdout).toContain(`ironclaw_${version}_containment.json`);
    }, 300_000);

    it("ships a linux executable that runs with no Node.js on PATH", () => {
      const extracted = join(work, "extracted");
      expect(spawnSync("mkdir", ["-p", extracted]).status).toBe(0);
      expect(spawnSync("tar", ["-xzf", join(out, linux), "-C", extracted]).status).toBe(0);
      const executable = join(extracted, "ironclaw");
      const run = spawnSync("env", ["-i", executable, "--version"], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe(`${version}\n`);
      // The executable verifies its own release's checksums with no Node.js beside it.
      const verify = spawnSync("env", ["-i", executable, "checksums", "verify", "--dir", out, linux], {
        encoding: "utf8",
      });
      expect(verify.stdout).toContain(`${linux}: OK`);
    });
  },
);
