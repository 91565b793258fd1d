import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalSigstore } from "@ironclaw/sigstore-local";
import { afterEach, describe, expect, it } from "vitest";
import { signNpmProvenance } from "../../package-store/test/support/npm-provenance.js";
import { integrityOf, RegistryStandIn } from "../../package-store/test/support/registry-stand-in.js";
import { plainPackage } from "../../package-store/test/support/tarball.js";
import { BIN, runCli } from "./helpers.js";

// The built `ironclaw up` wires the package store into the gateway: --package-registry names the
// registry (here npm's shape on loopback), IRONCLAW_TRUSTED_ROOT the Sigstore whose provenance counts.
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function registryWithPackages(sigstore: LocalSigstore) {
  const registry = await RegistryStandIn.start();
  cleanup.push(() => registry.stop());
  const attested = plainPackage("echo-mcp", "1.0.0");
  registry.add({
    name: "echo-mcp",
    version: "1.0.0",
    tarball: attested,
    attestations: [
      await signNpmProvenance(sigstore, {
        name: "echo-mcp",
        version: "1.0.0",
        tarball: attested,
        repository: "acme/tools",
      }),
    ],
  });
  const plain = plainPackage("plain-mcp", "1.0.0");
  registry.add({ name: "plain-mcp", version: "1.0.0", tarball: plain });
  const pinned = (name: string, bytes: Buffer) => ({
    name,
    version: "1.0.0",
    integrity: integrityOf(bytes),
    repository: "github.com/acme/tools",
  });
  return { registry, echo: pinned("echo-mcp", attested), plain: pinned("plain-mcp", plain) };
}

describe("ironclaw up --package-registry", () => {
  it("holds a verified package, refuses an unattested one, and shows allowUnattested in capitals", async () => {
    const sigstore = await LocalSigstore.start();
    cleanup.push(() => sigstore.stop());
    const { registry, echo, plain } = await registryWithPackages(sigstore);
    const dir = await mkdtemp(join(tmpdir(), "ironclaw-cli-packages-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const root = join(dir, "trusted_root.json");
    await writeFile(root, JSON.stringify(sigstore.trustedRoot));
    const state = join(dir, "state");
    const args = ["up", "--dev", "--listen", "127.0.0.1:0", "--no-agents", "--json", "--state", state];
    const child = spawn(process.execPath, [BIN, ...args, "--package-registry", registry.url], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "", IRONCLAW_TRUSTED_ROOT: root },
    });
    cleanup.push(async () => {
      if (child.exitCode === null) {
        child.kill("SIGKILL");
        await once(child, "exit");
      }
    });
    child.stdout.setEncoding("utf8");
    for await (const chunk of child.stdout) if (String(chunk).includes("\n")) break;

    const cli = (...argv: string[]) => runCli([...argv, "--state", state], { cwd: dir, env: {} });
    const created = await cli("changes", "submit", "create_agent", "--payload", '{"agent":"demo"}');
    const digest = /--digest (sha256:[0-9a-f]{64})/.exec(created.stdout)?.[1] as string;
    expect((await cli("changes", "approve", "c1", "--digest", digest)).code).toBe(0);
    const submit = (packages: unknown[]) =>
      cli("changes", "submit", "packages", "--payload", JSON.stringify({ agent: "demo", packages }));

    const held = await submit([echo]);
    expect(held.code).toBe(0);
    expect(held.stdout).toMatch(/^HELD {2}c2 {2}packages for agent demo/);
    expect(held.stdout).toContain("package       echo-mcp@1.0.0  provenance from github.com/acme/tools");

    const refused = await submit([plain]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^REJECTED {2}c3/);
    expect(refused.stdout).toContain("IC_PACKAGE_UNATTESTED");

    const allowed = await submit([{ ...plain, allowUnattested: true }]);
    expect(allowed.code).toBe(0);
    const shown = await cli("changes", "show", "c4");
    expect(shown.stdout).toContain("package       plain-mcp@1.0.0  UNATTESTED: no provenance");
    expect(registry.requests).toContain("/plain-mcp/1.0.0");
  });

  it("refuses a registry it would not fetch from, as a usage error", () => {
    const result = spawnSync(
      process.execPath,
      [
        BIN,
        "up",
        "--dev",
        "--no-agents",
        "--state",
        join(tmpdir(), "unused"),
        "--package-registry",
        "http://registry.example/",
      ],
      { encoding: "utf8", env: { PATH: process.env.PATH ?? "" } },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("IC_USAGE");
    expect(result.stderr).toContain("plain HTTP only to loopback");
  });
});
