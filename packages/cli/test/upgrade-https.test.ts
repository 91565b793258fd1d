import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loopbackTls } from "@ironclaw/sigstore-local";
import { beforeAll, describe, expect, it } from "vitest";
import { haveSystemTools } from "../../../test/support/system-tools.js";
import { archive, NEW, OLD, runInstalled, useUpgradeFixture } from "./upgrade-harness.js";

/**
 * The release server over TLS, as GitHub is: an https base may be redirected to any https host (the
 * object storage is another origin), never to plain http, even on this machine.
 */
const haveOpenssl = haveSystemTools("ironclaw upgrade from an https release server", ["openssl"]);
const tls = haveOpenssl ? await loopbackTls() : undefined;
const fixture = useUpgradeFixture(tls === undefined ? {} : { tls: { key: tls.leafKey, cert: tls.leafCert } });
let env: Record<string, string> = {};

beforeAll(() => {
  const ca = join(fixture.releases[NEW] ?? "", "loopback-ca.pem");
  writeFileSync(ca, tls?.caCert ?? "");
  env = { NODE_EXTRA_CA_CERTS: ca };
});

describe.runIf(haveOpenssl)("ironclaw upgrade from an https release server", () => {
  it("follows the redirect to the object storage, another https origin", async () => {
    expect(fixture.server.url.startsWith("https://127.0.0.1:")).toBe(true);
    const install = fixture.install();
    const result = await runInstalled(install.path, fixture.upgradeArgs("--json"), { env });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { downloads: Array<{ name: string; finalUrl: string }> };
    const asset = report.downloads.find((d) => d.name === archive(NEW));
    expect(asset?.finalUrl.startsWith(`${fixture.server.objectsUrl}/`)).toBe(true);
    expect(fixture.server.objectsUrl).not.toBe(fixture.server.url);
  }, 60_000);

  it("refuses a redirect from https to plain http, even on loopback", async () => {
    const install = fixture.install();
    fixture.server.faults = { assets: { [archive(NEW)]: { kind: "redirect-http-loopback" } } };
    const result = await runInstalled(install.path, fixture.upgradeArgs(), { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /IC_NETWORK_REDIRECT_REFUSED: https:\/\/127\.0\.0\.1:\d+\/download\/v0\.6\.0\/\S+ redirected to http:\/\/127\.0\.0\.1:\d+\/\S+, which is not HTTPS, and the release base https:\/\/127\.0\.0\.1:\d+ is; nothing was fetched from there/,
    );
    expect(fixture.server.downloadsOf(archive(NEW)).filter((r) => r.origin === "objects")).toEqual([]);
    await fixture.expectStillOld(install);
    expect(OLD).not.toBe(NEW);
  }, 60_000);

  it("refuses a server whose certificate this machine does not trust", async () => {
    const install = fixture.install();
    const result = await runInstalled(install.path, fixture.upgradeArgs());
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /IC_NETWORK: fetching https:\/\/127\.0\.0\.1:\d+\/latest failed: .*certificate/,
    );
    await fixture.expectStillOld(install);
  }, 30_000);
});
