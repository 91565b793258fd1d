import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalSigstore } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipRealSandbox } from "../../sandbox/test/sandbox-gate.js";
import { REPOSITORY, removeAll, signedRelease } from "./release-fixture.js";
import { ReleaseServer } from "./release-server.js";

const OLD = "0.5.0";
const NEW = "0.6.0";
let sigstore: LocalSigstore;
let server: ReleaseServer;
const dirs: string[] = [];

/** No Node.js anywhere on PATH: the standalone executable upgrades itself on its own. */
function run(
  executable: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(executable, args, { env: { PATH: "/nonexistent" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

// Its release carries a containment report, made in real sandboxes.
describe.runIf(process.platform === "linux" && process.arch === "x64" && !skipRealSandbox)(
  "ironclaw upgrade of a standalone executable",
  () => {
    beforeAll(async () => {
      sigstore = await LocalSigstore.start();
      server = await ReleaseServer.start();
      for (const version of [OLD, NEW]) {
        const dir = await signedRelease(sigstore, version, ["linux_amd64"]);
        dirs.push(dir);
        server.releases.set(`v${version}`, dir);
      }
      server.latest = `v${NEW}`;
    }, 240_000);
    afterAll(async () => {
      await server?.stop();
      await sigstore?.stop();
      removeAll(...dirs);
    });

    it("replaces itself with the verified newer executable, and rolls back", async () => {
      const installed = mkdtempSync(join(tmpdir(), "ironclaw-bin-"));
      dirs.push(installed);
      expect(
        spawnSync("tar", [
          "-xzf",
          join(dirs[0] ?? "", `ironclaw_${OLD}_linux_amd64.tar.gz`),
          "-C",
          installed,
          "ironclaw",
        ]).status,
      ).toBe(0);
      const executable = join(installed, "ironclaw");
      const original = readFileSync(executable);
      const upgrade = [
        "upgrade",
        "--base-url",
        server.url,
        "--repo",
        REPOSITORY,
        "--trusted-root",
        join(dirs[1] ?? "", "trusted_root.json"),
      ];

      const upgraded = await run(executable, upgrade);
      expect(upgraded.code, upgraded.stderr).toBe(0);
      expect(upgraded.stdout).toContain(`from v${OLD} to v${NEW}`);
      expect((await run(executable, ["--version"])).stdout).toBe(`${NEW}\n`);
      expect(readFileSync(`${executable}.previous`).equals(original)).toBe(true);

      expect((await run(executable, ["upgrade", "--rollback"])).code).toBe(0);
      expect((await run(executable, ["--version"])).stdout).toBe(`${OLD}\n`);
      expect(readFileSync(executable).equals(original)).toBe(true);

      // A steady 1 MiB/s link: the 35 MB archive takes about 35 s, with --timeout 10 (an idle timeout).
      const asset = `ironclaw_${NEW}_linux_amd64.tar.gz`;
      const size = statSync(join(dirs[1] ?? "", asset)).size;
      expect(size).toBeGreaterThan(30 * 1024 * 1024);
      server.faults = { assets: { [asset]: { kind: "drip", bytesPerSecond: 1024 * 1024 } } };
      const started = Date.now();
      const slow = await run(executable, [...upgrade, "--timeout", "10"]);
      expect(slow.code, slow.stderr).toBe(0);
      expect(Date.now() - started).toBeGreaterThan(25_000);
      // stderr is a pipe here: no progress bar.
      expect(slow.stderr).toBe("");
      expect((await run(executable, ["--version"])).stdout).toBe(`${NEW}\n`);
    }, 180_000);
  },
);
