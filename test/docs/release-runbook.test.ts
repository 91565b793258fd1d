import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSourceInfo, releaseLocally } from "@ironclaw/release";
import { LocalSigstore } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const runbook = readFileSync(join(root, "RELEASE.md"), "utf8");

/** The shell commands of one section of RELEASE.md, with `\` continuations joined. */
function commandsOf(heading: string): string[] {
  const start = runbook.indexOf(`## ${heading}\n`);
  const end = runbook.indexOf("\n## ", start + 1);
  const section = runbook.slice(start, end === -1 ? undefined : end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");
  return blocks.flatMap((block) =>
    block
      .replace(/\\\n\s*/g, "")
      .split("\n")
      .filter((line) => line.trim().length > 0),
  );
}

const work = mkdtempSync(join(tmpdir(), "ironclaw-runbook-"));
const release = join(work, "release");
const bin = join(work, "bin");
let sigstore: LocalSigstore;

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
  // The runbook's examples are for v1.2.3 of the official repository: build exactly that, signed locally.
  await releaseLocally({
    source: { ...readSourceInfo(root), version: "1.2.3" },
    outDir: release,
    targets: ["linux_amd64", "node"],
    sigstore,
  });
  spawnSync("mkdir", ["-p", bin]);
  writeFileSync(
    join(bin, "ironclaw"),
    `#!/bin/sh\nexec "${process.execPath}" "${join(root, "packages", "cli", "bin", "ironclaw.js")}" "$@"\n`,
  );
  chmodSync(join(bin, "ironclaw"), 0o755);
}, 240_000);
afterAll(async () => {
  await sigstore.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("RELEASE.md, Verifying a release", () => {
  const commands = commandsOf("Verifying a release");
  const ours = commands.filter(
    (command) => command.startsWith("ironclaw ") || command.startsWith("sha256sum "),
  );

  it("shows the ironclaw commands and the sha256sum, cosign and gh ones", () => {
    expect(ours.filter((command) => command.startsWith("ironclaw ")).length).toBeGreaterThanOrEqual(3);
    expect(commands.some((command) => command.startsWith("cosign verify-blob "))).toBe(true);
    expect(commands.some((command) => command.startsWith("gh attestation verify "))).toBe(true);
  });

  it.each(ours)("`%s` runs verbatim and succeeds against a release:local set", (command) => {
    const run = spawnSync("sh", ["-c", command], {
      cwd: release,
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH ?? ""}`,
        IRONCLAW_TRUSTED_ROOT: join(release, "trusted_root.json"),
      },
    });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
  });
});
