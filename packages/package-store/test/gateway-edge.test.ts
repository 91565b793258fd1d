import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gateway, type Principal } from "@ironclaw/gateway";
import { LocalSigstore } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PackageStore, packageChecker, removeTree } from "../src/index.js";
import { signNpmProvenance, trustedRootOf } from "./support/npm-provenance.js";
import { integrityOf, RegistryStandIn } from "./support/registry-stand-in.js";
import { plainPackage } from "./support/tarball.js";

// The whole path of issue 19's packages: a change submitted to the gateway, checked at its edge by
// the package store against an npm-shaped registry, refused by the verifier chain before any human
// sees it, or held for one with the package already verified in the store.
const OPERATOR: Principal = { id: "operator", role: "operator" };
let sigstore: LocalSigstore;
let registry: RegistryStandIn;
let state: string;
let gateway: Gateway;

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
});
afterAll(async () => {
  await sigstore.stop();
});
beforeEach(async () => {
  registry = await RegistryStandIn.start();
  state = await mkdtemp(join(tmpdir(), "ic-package-edge-"));
  const store = new PackageStore({
    stateDir: state,
    registry: registry.url,
    trustedRoot: trustedRootOf(sigstore),
  });
  gateway = await Gateway.open({ stateDir: state, packages: packageChecker(store) });
  const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "alpha" } });
  await gateway.approve(OPERATOR, change.id, { digest: change.digest });
  return async () => {
    await gateway.close();
    await registry.stop();
    await removeTree(state);
  };
});

async function publish(name: string, options: { repository?: string; attested?: boolean } = {}) {
  const tarball = plainPackage(name, "1.0.0");
  const attestations =
    options.attested === false
      ? undefined
      : [
          await signNpmProvenance(sigstore, {
            name,
            version: "1.0.0",
            tarball,
            repository: options.repository ?? "acme/tools",
          }),
        ];
  registry.add({ name, version: "1.0.0", tarball, ...(attestations === undefined ? {} : { attestations }) });
  return { name, version: "1.0.0", integrity: integrityOf(tarball), repository: "github.com/acme/tools" };
}

const submit = (packages: unknown[]) =>
  gateway.submit(OPERATOR, { kind: "packages", payload: { agent: "alpha", packages } });

describe("a packages change at the gateway, checked by the package store", () => {
  it("is held for a human when every package verifies, and the package is in the store", async () => {
    const spec = await publish("echo-mcp");
    const { change, refusal } = await submit([spec]);
    expect(refusal).toBeUndefined();
    expect(change.state).toBe("pending");
    expect(await new PackageStore({ stateDir: state, registry: registry.url }).installed(spec)).toBeDefined();
  });

  it("is refused by package_provenance for a tampered tarball, with the store's reason", async () => {
    const spec = await publish("echo-mcp");
    registry.override(registry.tarballPath("echo-mcp", "1.0.0"), (_q, response) =>
      response.end(plainPackage("echo-mcp", "1.0.0", [{ path: "package/evil.js", data: "x" }])),
    );
    const { change, refusal } = await submit([spec]);
    expect(change.state).toBe("rejected");
    expect(refusal?.verifier).toBe("package_provenance");
    expect(refusal?.reason).toContain("IC_PACKAGE_INTEGRITY");
  });

  it("is refused for missing provenance, and held when the change says allowUnattested", async () => {
    const spec = await publish("plain-mcp", { attested: false });
    expect((await submit([spec])).refusal?.reason).toContain("IC_PACKAGE_UNATTESTED");
    const { refusal, change } = await submit([{ ...spec, allowUnattested: true }]);
    expect(refusal).toBeUndefined();
    expect(change.state).toBe("pending");
  });

  it("is refused for provenance from another repository", async () => {
    const spec = await publish("echo-mcp", { repository: "mallory/tools" });
    const { refusal } = await submit([spec]);
    expect(refusal?.verifier).toBe("package_provenance");
    expect(refusal?.reason).toContain("IC_PACKAGE_PROVENANCE");
    expect(refusal?.reason).toContain("mallory");
  });
});

describe("the gateway's schema and the store's own check", () => {
  it("agree on what an integrity and a repository are", async () => {
    const gatewayKinds = await import("../../gateway/src/changes/kinds.js");
    const store = await import("../src/spec.js");
    expect(gatewayKinds.SHA512_INTEGRITY.source).toBe(store.SHA512_INTEGRITY.source);
    expect(gatewayKinds.GITHUB_REPOSITORY.source).toBe(store.GITHUB_REPOSITORY.source);
  });
});
