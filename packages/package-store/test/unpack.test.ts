import { existsSync } from "node:fs";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalSigstore } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PackageStore, removeTree } from "../src/index.js";
import { readTarball } from "../src/unpack.js";
import { signNpmProvenance, trustedRootOf } from "./support/npm-provenance.js";
import { integrityOf, RegistryStandIn } from "./support/registry-stand-in.js";
import { plainPackage, type TarEntry, tarball } from "./support/tarball.js";

// A package whose provenance verifies may still be hostile (its repository was compromised, say):
// unpacking trusts nothing in the tarball. The tarballs here are self-made, because these entries
// are what no packer writes; each is attested by the local Sigstore so only the unpacking can say no.
let sigstore: LocalSigstore;
let registry: RegistryStandIn;
let root: string;
let state: string;

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
});
afterAll(async () => {
  await sigstore.stop();
});
beforeEach(async () => {
  registry = await RegistryStandIn.start();
  root = await mkdtemp(join(tmpdir(), "ic-package-unpack-"));
  state = join(root, "state");
  return async () => {
    await registry.stop();
    await removeTree(root);
  };
});

async function installHostile(
  extra: readonly TarEntry[],
  limits = {},
): Promise<{ code: string; message: string }> {
  const bytes = plainPackage("hostile-mcp", "1.0.0", extra);
  const attestation = await signNpmProvenance(sigstore, {
    name: "hostile-mcp",
    version: "1.0.0",
    tarball: bytes,
    repository: "acme/hostile",
  });
  registry.add({ name: "hostile-mcp", version: "1.0.0", tarball: bytes, attestations: [attestation] });
  const error = await new PackageStore({
    stateDir: state,
    registry: registry.url,
    trustedRoot: trustedRootOf(sigstore),
    limits,
  })
    .install({
      name: "hostile-mcp",
      version: "1.0.0",
      integrity: integrityOf(bytes),
      repository: "github.com/acme/hostile",
    })
    .then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
  expect(error, "the install must be refused").toBeDefined();
  // Nothing was unpacked: no package, no temporary directory, nothing beside the state directory.
  expect(await readdir(join(state, "packages")).catch(() => [])).toEqual([]);
  expect(await readdir(root)).toEqual(existsSync(state) ? ["state"] : []);
  return error as { code: string; message: string };
}

describe("unpacking refuses what could leave the package or is not a plain file", () => {
  it.each([
    [
      "a path with ../ out of the package",
      { path: "package/../../../evil.js", data: "x" },
      "not a plain relative path",
    ],
    ["a top directory of ..", { path: "../evil.js", data: "x" }, "not a plain relative path"],
    ["an absolute path", { path: "/tmp/evil.js", data: "x" }, "is absolute"],
    [
      "a symlink out of the package",
      { path: "package/out", type: "2", linkpath: "../../../../etc/passwd" },
      "is a SymbolicLink",
    ],
    [
      "a symlink to /dev/zero",
      { path: "package/zero", type: "2", linkpath: "/dev/zero" },
      "is a SymbolicLink",
    ],
    [
      "a symlink inside the package",
      { path: "package/alias.js", type: "2", linkpath: "server.js" },
      "is a SymbolicLink",
    ],
    ["a hard link", { path: "package/hard", type: "1", linkpath: "/etc/shadow" }, "is a Link"],
    ["a FIFO", { path: "package/fifo", type: "6" }, "is a FIFO"],
    ["a character device", { path: "package/tty", type: "3" }, "is a CharacterDevice"],
    ["a block device", { path: "package/disk", type: "4" }, "is a BlockDevice"],
    ["a backslash path", { path: "package\\..\\evil.js", data: "x" }, "holds NUL or"],
  ] satisfies [string, TarEntry, string][])("refuses %s", async (_what, entry, why) => {
    const error = await installHostile([entry]);
    expect(error.code).toBe("IC_PACKAGE_TARBALL");
    expect(error.message).toContain(why);
    expect(error.message).toContain("nothing of it was unpacked");
    expect(existsSync(join(root, "evil.js"))).toBe(false);
  });

  it("refuses an entry listed twice, or as both a file and a directory", async () => {
    expect((await installHostile([{ path: "package/server.js", data: "second" }])).message).toContain(
      "listed twice",
    );
    expect((await installHostile([{ path: "package/server.js/", type: "5" }])).code).toBe(
      "IC_PACKAGE_TARBALL",
    );
  });

  it("refuses more entries or more bytes than the bounds, before reading the bytes", async () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ path: `package/f${i}.js`, data: "1" }));
    expect((await installHostile(many, { maxEntries: 10 })).message).toContain("more than 10 entries");
    // Eight MiB of zeros gzip to a few KiB: the bound counts what is unpacked, not what was sent.
    const bomb = [{ path: "package/zeros.bin", data: Buffer.alloc(8 * 1024 * 1024) }];
    expect((await installHostile(bomb, { maxUnpackedBytes: 1024 * 1024 })).message).toContain(
      "more than 1048576 bytes",
    );
  });

  it("refuses a header that announces more than the bound, whatever follows it", async () => {
    const bytes = tarball([
      { path: "package/package.json", data: "{}" },
      { path: "package/huge.bin", size: 2 ** 33 - 1 },
    ]);
    await expect(
      readTarball(bytes, "huge", { maxEntries: 10, maxUnpackedBytes: 1024 }),
    ).rejects.toMatchObject({
      code: "IC_PACKAGE_TARBALL",
    });
  });

  it("refuses a package without package.json, and bytes that are not a tarball", async () => {
    const bytes = tarball([{ path: "package/index.js", data: "1" }]);
    const entries = await readTarball(bytes, "t", { maxEntries: 10, maxUnpackedBytes: 1024 });
    expect(entries.map((e) => e.segments.join("/"))).toEqual(["index.js"]);
    await expect(
      readTarball(Buffer.from("not a tarball at all, and not gzip"), "t", {
        maxEntries: 10,
        maxUnpackedBytes: 1024,
      }),
    ).rejects.toMatchObject({ code: "IC_PACKAGE_TARBALL" });
  });
});
