import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalSigstore } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, spawnCli } from "./helpers.js";
import {
  flipByte,
  REPOSITORY,
  reattest,
  releaseIdentityFor,
  removeAll,
  resign,
  signedRelease,
  variant,
} from "./release-fixture.js";

const VERSION = "0.7.0";
const ARCHIVE = `ironclaw_${VERSION}_node.tar.gz`;
const JSONL = `ironclaw_${VERSION}.intoto.jsonl`;
let sigstore: LocalSigstore;
let release: string;
const made: string[] = [];

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
  release = await signedRelease(sigstore, VERSION);
  made.push(release);
}, 120_000);
afterAll(async () => {
  await sigstore.stop();
  removeAll(...made);
});

function broken(name: string): string {
  const dir = variant(release, name);
  made.push(dir);
  return dir;
}

/** `ironclaw verify` of the release in `dir`, by the test repository, under the release's own root. */
const verifyArgv = (dir: string) => [
  "verify",
  "--dir",
  dir,
  "--repo",
  REPOSITORY,
  "--trusted-root",
  join(dir, "trusted_root.json"),
];
const verify = (dir: string, ...args: string[]) => runCli([...verifyArgv(dir), ...args], { cwd: dir });

function checkLine(stdout: string, name: string, check: string): string | undefined {
  const lines = stdout.split("\n");
  const start = lines.indexOf(name);
  return lines.slice(start + 1).find((line) => line.trimStart().slice(2).startsWith(check));
}

describe("ironclaw verify on a release:local set", () => {
  it("verifies every file: signature, checksum, provenance, version", async () => {
    const result = await verify(release);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[0]).toMatch(
      new RegExp(`^ironclaw v${VERSION} from ${REPOSITORY}, commit [0-9a-f]{40}, run https://`),
    );
    expect(result.stdout.split("\n")[1]).toMatch(
      new RegExp(
        `^trusted root: ${join(release, "trusted_root.json")} \\(newest key from \\d{4}-\\d{2}-\\d{2}\\)$`,
      ),
    );
    for (const check of ["signature", "checksum", "provenance", "version"]) {
      expect(checkLine(result.stdout, ARCHIVE, check)).toMatch(/^ {2}✓ /);
    }
    expect(result.stdout).toMatch(
      new RegExp(`\\nVerified: 4 file\\(s\\) of ironclaw v${VERSION} \\(commit [0-9a-f]{40}\\)\\n$`),
    );
  });

  it("verifies one named file, finding the release files beside it", async () => {
    const result = await runCli(
      [
        "verify",
        join(release, ARCHIVE),
        "--repo",
        REPOSITORY,
        "--trusted-root",
        join(release, "trusted_root.json"),
      ],
      {
        cwd: "/",
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Verified: 1 file(s)");
  });

  it("refuses the official repository's policy for a fork's release", async () => {
    const result = await runCli(
      ["verify", "--dir", release, "--trusted-root", join(release, "trusted_root.json")],
      { cwd: release },
    );
    expect(result.code).toBe(1);
    expect(checkLine(result.stdout, ARCHIVE, "signature")).toContain("IC_POLICY_SIGNER_MISMATCH");
  });

  it("rejects a tampered archive, naming the checksum and provenance checks", async () => {
    const dir = broken("archive");
    flipByte(join(dir, ARCHIVE));
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(checkLine(result.stdout, ARCHIVE, "checksum")).toMatch(
      /✗ checksum +IC_RELEASE_CHECKSUM_MISMATCH: expected sha256 [0-9a-f]{64} \(SHA256SUMS line \d\), found [0-9a-f]{64}/,
    );
    expect(checkLine(result.stdout, ARCHIVE, "provenance")).toContain(
      "✗ provenance IC_RELEASE_PROVENANCE: no attestation names the artifact",
    );
    expect(result.stdout).toContain("NOT verified: 1 of 4 file(s) failed");
  });

  it("says the same from the command line, where hashing starts before the CLI is loaded", async () => {
    const tampered = broken("spawned-tampered");
    flipByte(join(tampered, ARCHIVE));
    for (const [dir, code] of [
      [release, 0],
      [tampered, 1],
    ] as const) {
      const argv = verifyArgv(dir);
      const spawned = spawnCli(argv, dir);
      const inProcess = await runCli(argv, { cwd: dir });
      expect(spawned.code).toBe(code);
      expect(spawned.stderr).toBe("");
      expect(spawned.stdout).toBe(inProcess.stdout);
    }
    // Named files, and a file that is not there.
    const named = [
      "verify",
      ARCHIVE,
      "absent.tar.gz",
      "--repo",
      REPOSITORY,
      "--trusted-root",
      "trusted_root.json",
    ];
    const spawned = spawnCli(named, release);
    const inProcess = await runCli(named, { cwd: release });
    expect(spawned.code).toBe(1);
    expect(spawned.code).toBe(inProcess.code);
    expect(spawned.stdout).toContain("absent.tar.gz");
    expect(spawned.stdout).toBe(inProcess.stdout);
  });

  it("verifies archives of several MiB whichever thread hashes them, and rejects each one changed", async () => {
    // Self-made archives (random bytes) large enough that the command hashes them on workers as well
    // as on its main thread; the release is signed and attested over them as release:local would.
    const dir = broken("large");
    const large = new Map([
      [`ironclaw_${VERSION}_linux_amd64.tar.gz`, 5 << 20],
      [`ironclaw_${VERSION}_linux_arm64.tar.gz`, 4 << 20],
      [`ironclaw_${VERSION}_windows_amd64.zip`, 3 << 20],
    ]);
    for (const [name, size] of large) writeFileSync(join(dir, name), randomBytes(size));
    const names = readdirSync(dir).filter(
      (name) => !["SHA256SUMS", "SHA256SUMS.sigstore.json", "trusted_root.json"].includes(name),
    );
    const identity = releaseIdentityFor(VERSION);
    await reattest(
      sigstore,
      dir,
      identity,
      names.filter((name) => name !== JSONL),
      JSONL,
    );
    await resign(sigstore, dir, identity, names);
    const argv = verifyArgv(dir);
    const good = spawnCli(argv, dir);
    expect(good.stderr).toBe("");
    expect(good.code).toBe(0);
    expect(good.stdout).toContain(`Verified: ${names.length} file(s) of ironclaw v${VERSION}`);
    for (const [name, size] of large) {
      // The last byte: the whole file must have been read to see it.
      flipByte(join(dir, name), size - 1);
      const bad = spawnCli(argv, dir);
      flipByte(join(dir, name), size - 1);
      expect(bad.code).toBe(1);
      expect(checkLine(bad.stdout, name, "checksum")).toContain("✗ checksum   IC_RELEASE_CHECKSUM_MISMATCH");
      for (const other of large.keys()) {
        if (other !== name) expect(checkLine(bad.stdout, other, "checksum")).toMatch(/^ {2}✓ /);
      }
      expect(bad.stdout).toContain(`NOT verified: 1 of ${names.length} file(s) failed`);
    }
  });

  it("rejects a tampered SHA256SUMS at the signature", async () => {
    const dir = broken("sums");
    const sums = readFileSync(join(dir, "SHA256SUMS"), "utf8");
    writeFileSync(
      join(dir, "SHA256SUMS"),
      sums.replace(/^[0-9a-f]/, (c) => (c === "0" ? "1" : "0")),
    );
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(checkLine(result.stdout, ARCHIVE, "signature")).toContain(
      "✗ signature  IC_SIGNATURE_ARTIFACT_MISMATCH",
    );
  });

  it("verifies with an extra RFC 3161 timestamp that does not verify, and says so on the signature line", async () => {
    // Self-made: a real timestamp of the local TSA, made over another signature.
    const dir = broken("extra-timestamp");
    const path = join(dir, "SHA256SUMS.sigstore.json");
    const bundle = JSON.parse(readFileSync(path, "utf8"));
    const other = (await sigstore.signMessage(Buffer.from("other"), releaseIdentityFor(VERSION))) as {
      verificationMaterial: { timestampVerificationData: { rfc3161Timestamps: unknown[] } };
    };
    bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.push(
      ...other.verificationMaterial.timestampVerificationData.rfc3161Timestamps,
    );
    writeFileSync(path, JSON.stringify(bundle));
    const result = await verify(dir);
    expect(result.code).toBe(0);
    expect(checkLine(result.stdout, ARCHIVE, "signature")).toContain(
      "1 RFC 3161 timestamp(s) NOT verified, not counted",
    );
  });

  it("rejects a signature bundle made for another file", async () => {
    const dir = broken("other-bundle");
    const other = await sigstore.signMessage(
      Buffer.from("another SHA256SUMS\n"),
      releaseIdentityFor(VERSION),
    );
    writeFileSync(join(dir, "SHA256SUMS.sigstore.json"), JSON.stringify(other));
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(checkLine(result.stdout, ARCHIVE, "signature")).toContain("IC_SIGNATURE_ARTIFACT_MISMATCH");
  });

  it.each([
    ["another repository", { repository: "evil/ironclaw" }],
    ["another workflow", { workflowPath: ".github/workflows/nightly.yml" }],
  ])("rejects a signature from %s", async (_what, overrides) => {
    const dir = broken("other-signer");
    await resign(sigstore, dir, releaseIdentityFor(VERSION, overrides), [ARCHIVE, JSONL]);
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(checkLine(result.stdout, ARCHIVE, "signature")).toContain("IC_POLICY_SIGNER_MISMATCH");
  });

  it("rejects attestations for another commit, even with a valid signature over them", async () => {
    const dir = broken("other-commit");
    await reattest(sigstore, dir, releaseIdentityFor(VERSION, { sha: "f".repeat(40) }), [ARCHIVE], JSONL);
    await resign(sigstore, dir, releaseIdentityFor(VERSION), [ARCHIVE, JSONL]);
    const result = await verify(dir, ARCHIVE);
    expect(result.code).toBe(1);
    expect(checkLine(result.stdout, ARCHIVE, "signature")).toMatch(/^ {2}✓ /);
    expect(checkLine(result.stdout, ARCHIVE, "provenance")).toContain("IC_POLICY_SOURCE_DIGEST_MISMATCH");
  });

  it("rejects files of one release signed as another (version and tag mismatch)", async () => {
    const dir = broken("other-tag");
    await resign(sigstore, dir, releaseIdentityFor("0.7.1"), [ARCHIVE, JSONL]);
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(checkLine(result.stdout, ARCHIVE, "version")).toContain(
      `IC_RELEASE_VERSION_MISMATCH: the file name says ${VERSION}; the signature is for v0.7.1`,
    );
    const pinned = await verify(release, "--tag", "v0.7.1");
    expect(checkLine(pinned.stdout, ARCHIVE, "signature")).toContain(
      `IC_RELEASE_TAG_MISMATCH: the signature is for v${VERSION}; expected v0.7.1`,
    );
  });

  it("rejects a release without its signature or its attestations", async () => {
    const unsigned = broken("unsigned");
    rmSync(join(unsigned, "SHA256SUMS.sigstore.json"));
    const result = await verify(unsigned);
    expect(result.code).toBe(1);
    expect(checkLine(result.stdout, ARCHIVE, "signature")).toContain("the release is not signed");
    const unattested = broken("unattested");
    rmSync(join(unattested, JSONL));
    const noProvenance = await verify(unattested, ARCHIVE);
    expect(noProvenance.code).toBe(1);
    expect(checkLine(noProvenance.stdout, ARCHIVE, "provenance")).toContain("IC_FILE_MISSING");
  });

  it("says in words what --checksums-only did not check", async () => {
    const result = await verify(release, "--checksums-only");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "Checksums match for 4 file(s), but NOT checked: the signature over SHA256SUMS",
    );
    expect(result.stdout).toContain("the build provenance");
  });

  it("prints the documented JSON document", async () => {
    const result = await verify(release, "--json");
    const document = JSON.parse(result.stdout);
    expect(document).toMatchObject({
      schema: "https://ironclaw.dev/schemas/release-verify/v1",
      ok: true,
      mode: "full",
      repository: REPOSITORY,
      release: { tag: `v${VERSION}`, repository: REPOSITORY },
      trustedRoot: { name: join(release, "trusted_root.json"), embedded: false },
      notChecked: [],
    });
    expect(
      document.artifacts
        .find((a: { name: string }) => a.name === ARCHIVE)
        .checks.map((c: { check: string; ok: boolean }) => [c.check, c.ok]),
    ).toEqual([
      ["signature", true],
      ["checksum", true],
      ["provenance", true],
      ["version", true],
    ]);
  });
});

describe("ironclaw verify-binary", () => {
  it("verifies the bundle extracted from the node archive by its provenance, and rejects a changed one", async () => {
    const dir = broken("binary");
    const { spawnSync } = await import("node:child_process");
    expect(spawnSync("tar", ["-xzf", join(dir, ARCHIVE), "-C", dir, "ironclaw.cjs"]).status).toBe(0);
    const ok = await runCli(
      [
        "verify-binary",
        join(dir, "ironclaw.cjs"),
        "--repo",
        REPOSITORY,
        "--trusted-root",
        join(dir, "trusted_root.json"),
      ],
      { cwd: dir },
    );
    expect(ok.code).toBe(0);
    expect(checkLine(ok.stdout, "ironclaw.cjs", "provenance")).toMatch(/^ {2}✓ provenance 1 statement/);
    writeFileSync(
      join(dir, "ironclaw.cjs"),
      `${readFileSync(join(dir, "ironclaw.cjs"), "utf8")}\n// changed`,
    );
    const changed = await runCli(
      [
        "verify-binary",
        join(dir, "ironclaw.cjs"),
        "--repo",
        REPOSITORY,
        "--trusted-root",
        join(dir, "trusted_root.json"),
      ],
      { cwd: dir },
    );
    expect(changed.code).toBe(1);
    expect(checkLine(changed.stdout, "ironclaw.cjs", "provenance")).toContain(
      "no attestation names the artifact",
    );
  });
});
