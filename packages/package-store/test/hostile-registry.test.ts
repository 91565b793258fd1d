import { mkdtemp } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalSigstore } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type PackageSpec, PackageStore, type PackageStoreOptions, removeTree } from "../src/index.js";
import { signNpmProvenance, trustedRootOf } from "./support/npm-provenance.js";
import { integrityOf, RegistryStandIn } from "./support/registry-stand-in.js";
import { plainPackage } from "./support/tarball.js";

// A registry that misbehaves: every answer is bounded in size and time, and the host talks only to
// the registry's own origin, whatever the registry redirects to or names.
let sigstore: LocalSigstore;
let registry: RegistryStandIn;
/** Another server on loopback, standing for "another host": it must never be asked anything. */
let elsewhere: RegistryStandIn;
let state: string;
let spec: PackageSpec;

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
});
afterAll(async () => {
  await sigstore.stop();
});
beforeEach(async () => {
  registry = await RegistryStandIn.start();
  elsewhere = await RegistryStandIn.start();
  state = await mkdtemp(join(tmpdir(), "ic-package-hostile-"));
  const tarball = plainPackage("echo-mcp", "1.0.0");
  const attestation = await signNpmProvenance(sigstore, {
    name: "echo-mcp",
    version: "1.0.0",
    tarball,
    repository: "acme/echo",
  });
  for (const server of [registry, elsewhere]) {
    server.add({ name: "echo-mcp", version: "1.0.0", tarball, attestations: [attestation] });
  }
  spec = {
    name: "echo-mcp",
    version: "1.0.0",
    integrity: integrityOf(tarball),
    repository: "github.com/acme/echo",
  };
  return async () => {
    await registry.stop();
    await elsewhere.stop();
    await removeTree(state);
  };
});

function store(options: Partial<PackageStoreOptions> = {}): PackageStore {
  return new PackageStore({
    stateDir: state,
    registry: registry.url,
    trustedRoot: trustedRootOf(sigstore),
    ...options,
  });
}

async function refused(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as { code: string; message: string },
  );
  expect(error, "the install must be refused").toBeDefined();
  return error as { code: string; message: string };
}

const redirectTo =
  (location: string) =>
  (_request: unknown, response: ServerResponse): void => {
    response.writeHead(302, { location });
    response.end();
  };

describe("redirects", () => {
  it("refuses a registry that redirects the version document off-host, and asks that host nothing", async () => {
    registry.override("/echo-mcp/1.0.0", redirectTo(`${elsewhere.url}echo-mcp/1.0.0`));
    const error = await refused(store().install(spec));
    expect(error.code).toBe("IC_PACKAGE_REDIRECT_REFUSED");
    expect(error.message).toContain(elsewhere.url);
    expect(elsewhere.requests).toEqual([]);
  });

  it("refuses a tarball redirected off-host, and one the document names on another origin", async () => {
    registry.override(registry.tarballPath("echo-mcp", "1.0.0"), redirectTo(`${elsewhere.url}x.tgz`));
    expect((await refused(store().install(spec))).code).toBe("IC_PACKAGE_REDIRECT_REFUSED");
    const other = await RegistryStandIn.start();
    try {
      const tarball = plainPackage("named-mcp", "1.0.0");
      other.add({
        name: "named-mcp",
        version: "1.0.0",
        tarball,
        dist: { tarball: `${elsewhere.url}named-mcp/-/named-mcp-1.0.0.tgz` },
      });
      const named = {
        ...spec,
        name: "named-mcp",
        integrity: integrityOf(tarball),
        allowUnattested: true as const,
      };
      const error = await refused(store({ registry: other.url }).install(named));
      expect(error.code).toBe("IC_PACKAGE_REGISTRY_URL");
      expect(error.message).toContain("not on the registry's origin");
      expect(elsewhere.requests).toEqual([]);
    } finally {
      await other.stop();
    }
  });

  it("follows a redirect to an origin configured beside the registry", async () => {
    registry.override(
      registry.tarballPath("echo-mcp", "1.0.0"),
      redirectTo(`${elsewhere.url.slice(0, -1)}${elsewhere.tarballPath("echo-mcp", "1.0.0")}`),
    );
    const installed = await store({ extraOrigins: [elsewhere.url] }).install(spec);
    expect(installed.provenance?.subject).toBe("pkg:npm/echo-mcp@1.0.0");
    expect(elsewhere.requests).toEqual([elsewhere.tarballPath("echo-mcp", "1.0.0")]);
  });

  it("refuses a redirect loop and a redirect to plain HTTP off this machine", async () => {
    registry.override("/echo-mcp/1.0.0", redirectTo("/echo-mcp/1.0.0"));
    expect((await refused(store().install(spec))).code).toBe("IC_PACKAGE_REDIRECT_REFUSED");
    registry.override("/echo-mcp/1.0.0", redirectTo("http://registry.example/echo-mcp/1.0.0"));
    const error = await refused(store().install(spec));
    expect(error.code).toBe("IC_PACKAGE_REDIRECT_REFUSED");
    expect(error.message).toContain("plain HTTP off this machine");
  });

  it("refuses a registry over plain HTTP off this machine, or with credentials in its URL", () => {
    for (const url of ["http://registry.example/", "https://user:pw@registry.example/", "file:///etc/"]) {
      expect(() => store({ registry: url })).toThrow(
        expect.objectContaining({ code: "IC_PACKAGE_REGISTRY_URL" }),
      );
    }
  });
});

describe("time and size", () => {
  it("gives up on a registry that stalls (answers nothing)", async () => {
    registry.override("/echo-mcp/1.0.0", () => undefined);
    const started = Date.now();
    const error = await refused(store({ limits: { idleMs: 300 } }).install(spec));
    expect(error.code).toBe("IC_PACKAGE_TIMEOUT");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("gives up on a tarball that stalls halfway", async () => {
    registry.override(registry.tarballPath("echo-mcp", "1.0.0"), (_q, response) => {
      response.writeHead(200, { "content-length": "100000" });
      response.write(Buffer.alloc(10));
    });
    const error = await refused(store({ limits: { idleMs: 300 } }).install(spec));
    expect(error.code).toBe("IC_PACKAGE_TIMEOUT");
  });

  it("gives up on a registry that drips a byte at a time, however steadily", async () => {
    registry.override("/echo-mcp/1.0.0", (_q, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      const timer = setInterval(() => response.write(" "), 20);
      response.on("close", () => clearInterval(timer));
    });
    const error = await refused(store({ limits: { idleMs: 1000, totalMs: 500 } }).install(spec));
    expect(error.code).toBe("IC_PACKAGE_TIMEOUT");
    expect(error.message).toContain("longer than 500 ms");
  });

  it("refuses an endless body, and a length announced over the bound, without reading them", async () => {
    registry.override("/echo-mcp/1.0.0", (_q, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (response.write(chunk)) {
          /* until the socket pushes back */
        }
      };
      response.on("drain", pump);
      pump();
    });
    const endless = await refused(store({ limits: { maxDocumentBytes: 1024 * 1024 } }).install(spec));
    expect(endless.code).toBe("IC_PACKAGE_TOO_LARGE");
    expect(endless.message).toContain("sent more than 1048576 bytes");
    registry.restore("/echo-mcp/1.0.0");
    registry.override(registry.tarballPath("echo-mcp", "1.0.0"), (_q, response) => {
      response.writeHead(200, { "content-length": String(2 ** 40) });
      response.end();
    });
    const huge = await refused(store().install(spec));
    expect(huge.code).toBe("IC_PACKAGE_TOO_LARGE");
    expect(huge.message).toContain(`announces ${2 ** 40} bytes`);
  });

  it("refuses an attestations document that is not npm's", async () => {
    registry.override(registry.attestationsPath("echo-mcp", "1.0.0"), (_q, response) =>
      response.end("<html>"),
    );
    expect((await refused(store().install(spec))).code).toBe("IC_PACKAGE_PROVENANCE");
    registry.override(registry.attestationsPath("echo-mcp", "1.0.0"), (_q, response) =>
      response.end(
        JSON.stringify({ attestations: [{ predicateType: "https://slsa.dev/provenance/v1", bundle: {} }] }),
      ),
    );
    expect((await refused(store().install(spec))).code).toBe("IC_PACKAGE_PROVENANCE");
  });
});
