import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, temporaryDirectory } from "./helpers.js";

// Real bundles from gh's test data (test/fixtures/real-world/NOTICE): one signed by GitHub's own
// Sigstore instance (Fulcio "GitHub, Inc." intermediate, RFC 3161 timestamps, no Rekor entry), one
// by the public-good instance (npm provenance). Either stands where SHA256SUMS.sigstore.json goes.
const REAL = fileURLToPath(new URL("../../../test/fixtures/real-world/gh-cli/", import.meta.url));
const GITHUB_INSTANCE = "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl";
const PUBLIC_GOOD = "sigstore-js-2.1.0-bundle.json";
const EMBEDDED = "Sigstore public-good (embedded)";

const work = temporaryDirectory("ironclaw-verify-root-");
afterAll(() => work.remove());

function releaseWith(bundle: string): string {
  const dir = join(work.path, bundle);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "SHA256SUMS"), `${"a".repeat(64)}  ironclaw_1.2.3_node.tar.gz\n`);
  // The first line of the JSON Lines file is one bundle.
  writeFileSync(
    join(dir, "SHA256SUMS.sigstore.json"),
    readFileSync(join(REAL, bundle), "utf8").split("\n")[0] ?? "",
  );
  return dir;
}

describe("ironclaw verify names the trusted root it used", () => {
  it("names the embedded root and its date, and says when the signer's CA is not in it", async () => {
    const dir = releaseWith(GITHUB_INSTANCE);
    const text = await runCli(["verify", "--dir", dir], { cwd: dir, env: {} });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /^trusted root: Sigstore public-good \(embedded\) \(newest key from \d{4}-\d{2}-\d{2}\)$/m,
    );
    expect(text.stdout).toContain('issued by "O=GitHub, Inc., CN=Fulcio Intermediate l2"');
    expect(text.stdout).toContain("pass that instance's trusted root with --trusted-root");
    const json = JSON.parse((await runCli(["verify", "--dir", dir, "--json"], { cwd: dir, env: {} })).stdout);
    expect(json.trustedRoot).toMatchObject({ name: EMBEDDED, embedded: true });
    expect(json.trustedRoot.newestKeyFrom).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("gives no such advice when the certificate's CA is in the root", async () => {
    const dir = releaseWith(PUBLIC_GOOD);
    const result = await runCli(["verify", "--dir", dir], { cwd: dir, env: {} });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`trusted root: ${EMBEDDED}`);
    expect(result.stdout).not.toContain("issued by");
  });

  it("names a root given by IRONCLAW_TRUSTED_ROOT as coming from there", async () => {
    const dir = releaseWith(PUBLIC_GOOD);
    copyFileSync(join(REAL, "trusted_root.json"), join(dir, "root.json"));
    const result = await runCli(["verify", "--dir", dir, "--json"], {
      cwd: dir,
      env: { IRONCLAW_TRUSTED_ROOT: "root.json" },
    });
    expect(JSON.parse(result.stdout).trustedRoot).toMatchObject({
      name: `${join(dir, "root.json")} (from IRONCLAW_TRUSTED_ROOT)`,
      embedded: false,
    });
  });
});
