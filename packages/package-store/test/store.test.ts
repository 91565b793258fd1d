import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalSigstore } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type PackageSpec, PackageStore, packageDir, removeTree } from "../src/index.js";
import { signNpmProvenance, trustedRootOf } from "./support/npm-provenance.js";
import { integrityOf, RegistryStandIn } from "./support/registry-stand-in.js";
import { plainPackage } from "./support/tarball.js";

const REPO = "acme/echo-server";
let sigstore: LocalSigstore;
let registry: RegistryStandIn;
let state: string;

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
});
afterAll(async () => {
  await sigstore.stop();
});
beforeEach(async () => {
  registry = await RegistryStandIn.start();
  state = await mkdtemp(join(tmpdir(), "ic-package-store-"));
  return async () => {
    await registry.stop();
    await removeTree(state);
  };
});

function store(): PackageStore {
  return new PackageStore({ stateDir: state, registry: registry.url, trustedRoot: trustedRootOf(sigstore) });
}

/** Publishes a version with provenance from `repository` (default REPO) and returns its spec. */
async function publish(
  name: string,
  version: string,
  options: { repository?: string; subjectName?: string; tarball?: Buffer; attested?: boolean } = {},
): Promise<PackageSpec> {
  const tarball = options.tarball ?? plainPackage(name, version);
  const attestations =
    options.attested === false
      ? undefined
      : [
          await signNpmProvenance(sigstore, {
            name,
            version,
            tarball,
            repository: options.repository ?? REPO,
            ...(options.subjectName === undefined ? {} : { subjectName: options.subjectName }),
          }),
        ];
  registry.add({ name, version, tarball, ...(attestations === undefined ? {} : { attestations }) });
  return { name, version, integrity: integrityOf(tarball), repository: `github.com/${REPO}` };
}

async function refusal(spec: PackageSpec): Promise<{ code: string; message: string }> {
  const error = await store()
    .install(spec)
    .then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
  expect(error, "the install must be refused").toBeDefined();
  return error as { code: string; message: string };
}

async function storeIsEmpty(): Promise<void> {
  const entries = await readdir(join(state, "packages")).catch(() => []);
  expect(entries).toEqual([]);
}

describe("a package with npm provenance from the approved repository", () => {
  it("is fetched, verified and unpacked read-only into the content-addressed store", async () => {
    const spec = await publish("echo-mcp", "1.2.3");
    const installed = await store().install(spec);
    expect(installed.dir).toBe(packageDir(state, spec.integrity));
    expect(installed.provenance).toMatchObject({
      subject: "pkg:npm/echo-mcp@1.2.3",
      sourceRepository: `https://github.com/${REPO}`,
    });
    expect(JSON.parse(await readFile(join(installed.dir, "package.json"), "utf8")).name).toBe("echo-mcp");
    expect((await stat(join(installed.dir, "server.js"))).mode & 0o777).toBe(0o444);
    expect((await stat(join(installed.dir, "lib/tool.js"))).mode & 0o777).toBe(0o444);
    expect((await stat(join(installed.dir, "lib"))).mode & 0o777).toBe(0o555);
    expect((await stat(installed.dir)).mode & 0o777).toBe(0o555);
    expect(await store().installed(spec)).toBe(installed.dir);
    // No temporary directory is left beside it.
    expect(await readdir(join(state, "packages"))).toEqual([installed.dir.split("/").at(-1)]);
  });

  it("works for a scoped package, whose purl writes the scope's @ as %40", async () => {
    const spec = await publish("@acme/files-mcp", "0.1.0-beta.1");
    const installed = await store().install(spec);
    expect(installed.provenance?.subject).toBe("pkg:npm/%40acme/files-mcp@0.1.0-beta.1");
    expect(registry.requests).toContain("/@acme%2ffiles-mcp/0.1.0-beta.1");
  });

  it("accepts npm's purl for a package published to the configured registry, and no other registry's", async () => {
    const own = `pkg:npm/%40acme/files-mcp@2.0.0?repository_url=${registry.url.replace(/\/$/, "")}`;
    const spec = await publish("@acme/files-mcp", "2.0.0", { subjectName: own });
    expect((await store().install(spec)).provenance?.subject).toBe("pkg:npm/%40acme/files-mcp@2.0.0");
    const other = await publish("@acme/files-mcp", "2.0.1", {
      subjectName: "pkg:npm/%40acme/files-mcp@2.0.1?repository_url=https://registry.example",
    });
    expect((await refusal(other)).code).toBe("IC_PACKAGE_PROVENANCE");
  });

  it("installs the same bytes once when several installs race", async () => {
    const spec = await publish("echo-mcp", "1.2.3");
    const results = await Promise.all([store().install(spec), store().install(spec), store().install(spec)]);
    expect(new Set(results.map((r) => r.dir)).size).toBe(1);
    expect(await readdir(join(state, "packages"))).toHaveLength(1);
  });

  it("verifies a package named constructor like any other, with no prototype in the way", async () => {
    const spec = await publish("constructor", "1.0.0");
    expect((await store().install(spec)).provenance?.subject).toBe("pkg:npm/constructor@1.0.0");
    const missing = await refusal({ ...spec, name: "hasownproperty" });
    expect(missing.code).toBe("IC_PACKAGE_NOT_FOUND");
  });
});

describe("refusals: nothing reaches the store", () => {
  it("refuses a tampered tarball: the registry's bytes do not hash to the approved integrity", async () => {
    const spec = await publish("echo-mcp", "1.2.3");
    const tampered = plainPackage("echo-mcp", "1.2.3", [{ path: "package/evil.js", data: "steal()" }]);
    registry.override(registry.tarballPath("echo-mcp", "1.2.3"), (_q, response) => response.end(tampered));
    const error = await refusal(spec);
    expect(error.code).toBe("IC_PACKAGE_INTEGRITY");
    expect(error.message).toContain("tampered");
    await storeIsEmpty();
  });

  it("refuses when the registry names another integrity than the change approves", async () => {
    const spec = await publish("echo-mcp", "1.2.3");
    const other = integrityOf(Buffer.from("another build"));
    const error = await refusal({ ...spec, integrity: other });
    expect(error.code).toBe("IC_PACKAGE_INTEGRITY");
    expect(error.message).toContain(other);
    expect(registry.requests.some((p) => p.endsWith(".tgz"))).toBe(false);
    await storeIsEmpty();
  });

  it("refuses a package without provenance, unless the change says allowUnattested", async () => {
    const spec = await publish("echo-mcp", "1.2.3", { attested: false });
    const error = await refusal(spec);
    expect(error.code).toBe("IC_PACKAGE_UNATTESTED");
    expect(error.message).toContain("allowUnattested");
    await storeIsEmpty();
    const installed = await store().install({ ...spec, allowUnattested: true });
    expect(installed.provenance).toBeNull();
    expect(await store().installed(spec)).toBe(installed.dir);
  });

  it("refuses provenance from another repository, with or without allowUnattested", async () => {
    for (const [repository, found] of [
      ["mallory/echo-server", '"https://github.com/mallory"'],
      ["acme/echo-server-fork", '"https://github.com/acme/echo-server-fork"'],
    ] as const) {
      const spec = await publish("echo-mcp", "1.2.3", { repository });
      for (const candidate of [spec, { ...spec, allowUnattested: true as const }]) {
        const error = await refusal(candidate);
        expect(error.code).toBe("IC_PACKAGE_PROVENANCE");
        expect(error.message).toContain(found);
        expect(error.message).toContain("https://github.com/acme");
      }
    }
    await storeIsEmpty();
  });

  it("refuses provenance for another version of the same bytes", async () => {
    const spec = await publish("echo-mcp", "1.2.4", { subjectName: "pkg:npm/echo-mcp@1.2.3" });
    const error = await refusal(spec);
    expect(error.code).toBe("IC_PACKAGE_PROVENANCE");
    expect(error.message).toContain('"pkg:npm/echo-mcp@1.2.3"');
    expect(error.message).toContain("pkg:npm/echo-mcp@1.2.4");
    await storeIsEmpty();
  });

  it("refuses provenance of another tarball (the subject's digest differs)", async () => {
    const other = plainPackage("echo-mcp", "1.2.3", [{ path: "package/x.js", data: "1" }]);
    const attestation = await signNpmProvenance(sigstore, {
      name: "echo-mcp",
      version: "1.2.3",
      tarball: other,
      repository: REPO,
    });
    const tarball = plainPackage("echo-mcp", "1.2.3");
    registry.add({ name: "echo-mcp", version: "1.2.3", tarball, attestations: [attestation] });
    const error = await refusal({
      name: "echo-mcp",
      version: "1.2.3",
      integrity: integrityOf(tarball),
      repository: `github.com/${REPO}`,
    });
    expect(error.code).toBe("IC_PACKAGE_PROVENANCE");
    expect(error.message).toContain("no attestation names the artifact");
  });

  it("refuses provenance signed by a Sigstore it does not trust", async () => {
    const spec = await publish("echo-mcp", "1.2.3");
    const stranger = await LocalSigstore.start();
    try {
      const error = await new PackageStore({
        stateDir: state,
        registry: registry.url,
        trustedRoot: trustedRootOf(stranger),
      })
        .install(spec)
        .catch((e: unknown) => e as { code: string });
      expect(error).toMatchObject({ code: "IC_PACKAGE_PROVENANCE" });
    } finally {
      await stranger.stop();
    }
    await storeIsEmpty();
  });

  it("refuses a version document for another package or version", async () => {
    const spec = await publish("echo-mcp", "1.2.3");
    registry.override(registry.versionPath("echo-mcp", "1.2.3"), (_q, response) =>
      response.end(JSON.stringify({ name: "echo-mcp", version: "9.9.9", dist: {} })),
    );
    expect((await refusal(spec)).code).toBe("IC_PACKAGE_METADATA");
  });

  it("refuses names no npm package has (Object.prototype's own, invisible Unicode, upper case) and ranges", async () => {
    const spec = await publish("echo-mcp", "1.2.3");
    for (const name of [
      "__proto__",
      "echo\u200b-mcp",
      "echo-mcp\u202e",
      "Echo-MCP",
      "ｅcho-mcp",
      "../echo",
    ]) {
      expect((await refusal({ ...spec, name })).code).toBe("IC_PACKAGE_SPEC_INVALID");
    }
    for (const version of ["^1.2.3", "latest", "1.2", "1.2.3\u200b"]) {
      expect((await refusal({ ...spec, version })).code).toBe("IC_PACKAGE_SPEC_INVALID");
    }
    expect((await refusal({ ...spec, integrity: "sha1-abc" })).code).toBe("IC_PACKAGE_SPEC_INVALID");
    expect((await refusal({ ...spec, repository: "gitlab.com/acme/x" })).code).toBe(
      "IC_PACKAGE_SPEC_INVALID",
    );
    // Refused before any request: a name is never sent to the registry unchecked.
    expect(registry.requests).toEqual([]);
  });
});

describe("the store directory", () => {
  it("clears what an install killed mid-way left, and nothing a running install is writing", async () => {
    const packages = join(state, "packages");
    // A process id no process has (above Linux's pid_max), and this test's own, which is alive.
    const abandoned = join(packages, ".unpack-4194305-0011223344556677");
    const running = join(packages, `.unpack-${process.pid}-8899aabbccddeeff`);
    await mkdir(join(abandoned, "lib"), { recursive: true });
    await writeFile(join(abandoned, "lib", "half.js"), "half");
    await chmod(join(abandoned, "lib"), 0o555);
    await chmod(abandoned, 0o555);
    await mkdir(running, { recursive: true });
    const spec = await publish("echo-mcp", "1.2.3");
    const { dir } = await store().install(spec);
    expect((await readdir(packages)).sort()).toEqual(
      [dir.split("/").at(-1), running.split("/").at(-1)].sort(),
    );
  });

  it("reports a store it cannot write as IC_PACKAGE_STORE_IO, and leaves nothing half-written", async () => {
    const spec = await publish("echo-mcp", "1.2.3");
    // Where the store's directory should be, a file: every write under it fails, as on a broken disk.
    await writeFile(join(state, "packages"), "not a directory");
    const error = await refusal(spec);
    expect(error.code).toBe("IC_PACKAGE_STORE_IO");
    expect(error.message).toContain("check the disk");
    expect(await readFile(join(state, "packages"), "utf8")).toBe("not a directory");
  });

  it("is removed whole by removeTree although it is read-only", async () => {
    const spec = await publish("echo-mcp", "1.2.3");
    const { dir } = await store().install(spec);
    await removeTree(dir);
    expect(await store().installed(spec)).toBeUndefined();
    await rm(join(state, "packages"), { recursive: true });
  });
});
