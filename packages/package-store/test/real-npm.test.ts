import { readFileSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeEach, describe, expect, it } from "vitest";
import { type PackageSpec, PackageStore, removeTree } from "../src/index.js";
import { integrityOf, RegistryStandIn } from "./support/registry-stand-in.js";

// Foreign samples: the real tarball of sigstore@2.1.0 as npm serves it and its real npm provenance
// (`npm publish --provenance` from sigstore/sigstore-js, signed by the public-good Sigstore), from gh's
// test data, which gh verifies (test/fixtures/real-world/NOTICE). The stand-in wraps the bundle in npm's
// attestations document ({ attestations: [{ predicateType, bundle }] }); the store checks it with the
// embedded public-good root, exactly as it would a package from registry.npmjs.org.
const GH = fileURLToPath(new URL("../../../test/fixtures/real-world/gh-cli/", import.meta.url));
const TARBALL = readFileSync(join(GH, "sigstore-js-2.1.0.tgz"));
const BUNDLE = JSON.parse(readFileSync(join(GH, "sigstore-js-2.1.0-bundle.json"), "utf8")) as unknown;
const PROVENANCE = { predicateType: "https://slsa.dev/provenance/v1", bundle: BUNDLE };
const SPEC: PackageSpec = {
  name: "sigstore",
  version: "2.1.0",
  integrity:
    "sha512-kPIj+ZLkyI3QaM0qX8V/nSsweYND3W448pwkDgS6CQ74MfhEkIR8ToK5Iyx46KJYRjseVcD3Rp9zAmUAj6ZjPw==",
  repository: "github.com/sigstore/sigstore-js",
};

let registry: RegistryStandIn;
let state: string;
beforeEach(async () => {
  registry = await RegistryStandIn.start();
  state = await mkdtemp(join(tmpdir(), "ic-package-real-"));
  return async () => {
    await registry.stop();
    await removeTree(state);
  };
});

const store = () => new PackageStore({ stateDir: state, registry: registry.url });

describe("real npm provenance (sigstore@2.1.0)", () => {
  it("is accepted from its real repository, its slsa-framework builder.id checked against the certificate", async () => {
    // The integrity npm's registry publishes for sigstore@2.1.0 is the one the real bytes hash to.
    expect(integrityOf(TARBALL)).toBe(SPEC.integrity);
    // npm lists its own publish attestation first, signed by the registry's key: not provenance, and
    // left out (this one is a self-made stand-in, not a signature of npm's).
    const publish = {
      predicateType: "https://github.com/npm/attestation/tree/main/specs/publish/v0.1",
      bundle: {},
    };
    registry.add({
      name: "sigstore",
      version: "2.1.0",
      tarball: TARBALL,
      attestations: [publish, PROVENANCE],
    });
    const installed = await store().install(SPEC);
    expect(installed.provenance).toEqual({
      subject: "pkg:npm/sigstore@2.1.0",
      sourceRepository: "https://github.com/sigstore/sigstore-js",
      sourceCommit: "26d16513386ffaa790b1c32f927544f1322e4194",
      sourceRef: "refs/heads/main",
      workflow: "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
      buildType: "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
      crossChecked: true,
    });
    const manifest = JSON.parse(await readFile(join(installed.dir, "package.json"), "utf8"));
    expect([manifest.name, manifest.version]).toEqual(["sigstore", "2.1.0"]);
  });

  it("is refused against another repository, of the same owner or another", async () => {
    registry.add({ name: "sigstore", version: "2.1.0", tarball: TARBALL, attestations: [PROVENANCE] });
    for (const repository of ["github.com/sigstore/cosign", "github.com/mallory/sigstore-js"]) {
      const error = await store()
        .install({ ...SPEC, repository })
        .catch((e: unknown) => e as { code: string; message: string });
      expect(error).toMatchObject({ code: "IC_PACKAGE_PROVENANCE" });
      expect((error as { message: string }).message).toContain("https://github.com/sigstore");
    }
  });

  it("is refused as the provenance of another version with the same bytes", async () => {
    registry.add({ name: "sigstore", version: "2.1.1", tarball: TARBALL, attestations: [PROVENANCE] });
    const error = await store()
      .install({ ...SPEC, version: "2.1.1" })
      .catch((e: unknown) => e as { code: string; message: string });
    expect(error).toMatchObject({ code: "IC_PACKAGE_PROVENANCE" });
    expect((error as { message: string }).message).toContain('"pkg:npm/sigstore@2.1.0"');
  });

  it("is refused when a byte of the signed statement is changed", async () => {
    const tampered = structuredClone(BUNDLE) as { dsseEnvelope: { payload: string } };
    const payload = Buffer.from(tampered.dsseEnvelope.payload, "base64")
      .toString("utf8")
      .replace("refs/heads/main", "refs/heads/evil");
    tampered.dsseEnvelope.payload = Buffer.from(payload).toString("base64");
    registry.add({
      name: "sigstore",
      version: "2.1.0",
      tarball: TARBALL,
      attestations: [{ ...PROVENANCE, bundle: tampered }],
    });
    await expect(store().install(SPEC)).rejects.toMatchObject({ code: "IC_PACKAGE_PROVENANCE" });
  });
});
