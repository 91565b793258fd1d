import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PAYLOAD_SCHEMAS } from "../../packages/gateway/src/changes/kinds.js";
import { PackageStore, removeTree } from "../../packages/package-store/src/index.js";
import { RegistryStandIn } from "../../packages/package-store/test/support/registry-stand-in.js";

// The README's packages example is a change that verifies: the real sigstore@2.1.0 tarball and npm
// provenance (gh's test data, test/fixtures/real-world/NOTICE), served in npm's shape on loopback.
const root = new URL("../../", import.meta.url).pathname;
const GH = join(root, "test/fixtures/real-world/gh-cli");

async function readmeExample(): Promise<unknown> {
  const readme = await readFile(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Packages for MCP servers"));
  const command = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const payload = /--payload '([^']*)'/.exec(command)?.[1];
  expect(payload, "the README shows a packages payload").toBeDefined();
  return JSON.parse(payload as string);
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe("README: packages for MCP servers", () => {
  it("shows a payload the gateway accepts and the package store verifies", async () => {
    const payload = PAYLOAD_SCHEMAS.packages.parse(await readmeExample());
    const [spec] = payload.packages;
    if (spec === undefined) throw new Error("the example names no package");
    const registry = await RegistryStandIn.start();
    cleanup.push(() => registry.stop());
    registry.add({
      name: "sigstore",
      version: "2.1.0",
      tarball: await readFile(join(GH, "sigstore-js-2.1.0.tgz")),
      attestations: [
        {
          predicateType: "https://slsa.dev/provenance/v1",
          bundle: JSON.parse(await readFile(join(GH, "sigstore-js-2.1.0-bundle.json"), "utf8")),
        },
      ],
    });
    const state = await mkdtemp(join(tmpdir(), "ironclaw-readme-packages-"));
    cleanup.push(() => removeTree(state));
    const installed = await new PackageStore({ stateDir: state, registry: registry.url }).install(spec);
    expect(installed.provenance?.sourceRepository).toBe(`https://${spec.repository}`);
    expect(installed.dir).toBe(
      join(state, "packages", Buffer.from(spec.integrity.slice(7), "base64").toString("hex")),
    );
  });
});
