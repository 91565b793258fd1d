import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalSigstore } from "@ironclaw/sigstore-local";
import { parseChecksums } from "@ironclaw/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { releaseLocally } from "../src/local-release.js";
import { readSourceInfo } from "../src/source-info.js";
import { releaseSubjects } from "../src/subjects.js";

const root = new URL("../../../", import.meta.url).pathname.replace(/\/$/, "");
const out = mkdtempSync(join(tmpdir(), "ironclaw-subjects-"));
const reports = mkdtempSync(join(tmpdir(), "ironclaw-reports-"));
let sigstore: LocalSigstore;
let executables: Array<{ archive: string; name: string; sha256: string }>;

const CONTAINMENT_SCHEMA = "https://ironclaw.dev/schemas/containment/v1";

function report(verdict: string): string {
  const file = join(reports, `report-${verdict}.json`);
  writeFileSync(file, `${JSON.stringify({ schema: CONTAINMENT_SCHEMA, verdict, invariants: [] })}\n`);
  return file;
}

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
  const result = await releaseLocally({
    source: { ...readSourceInfo(root), version: "3.0.0" },
    outDir: out,
    targets: ["node"],
    sigstore,
    containmentReport: report("contained"),
  });
  executables = [...result.executables];
}, 120_000);
afterAll(async () => {
  await sigstore.stop();
  rmSync(out, { recursive: true, force: true });
  rmSync(reports, { recursive: true, force: true });
});

describe("releaseSubjects", () => {
  it("lists every archive, every executable inside one, and the installers, with their SHA-256", async () => {
    const list = parseChecksums(Buffer.from(await releaseSubjects(out)));
    const sha = (name: string) =>
      createHash("sha256")
        .update(readFileSync(join(out, name)))
        .digest("hex");
    expect(list.entries.map((entry) => entry.name).sort()).toEqual(
      [
        "install.ps1",
        "install.sh",
        "ironclaw_3.0.0_containment.json",
        "ironclaw_3.0.0_node.tar.gz",
        "ironclaw_3.0.0_node/ironclaw.cjs",
      ].sort(),
    );
    // SHA256SUMS lists the report too, so its signature covers it.
    const sums = parseChecksums(readFileSync(join(out, "SHA256SUMS")));
    expect(sums.byName.get("ironclaw_3.0.0_containment.json")?.sha256).toBe(
      sha("ironclaw_3.0.0_containment.json"),
    );
    expect(list.byName.get("ironclaw_3.0.0_node.tar.gz")?.sha256).toBe(sha("ironclaw_3.0.0_node.tar.gz"));
    expect(list.byName.get("install.sh")?.sha256).toBe(sha("install.sh"));
    // The executable's digest is the one the release build computed from the bytes it packed.
    expect(list.byName.get("ironclaw_3.0.0_node/ironclaw.cjs")?.sha256).toBe(executables[0]?.sha256);
  });
});

describe("the containment report in a release", () => {
  it("is refused, before anything is built, unless its verdict is contained", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "ironclaw-breached-"));
    try {
      await expect(
        releaseLocally({
          source: { ...readSourceInfo(root), version: "3.0.1" },
          outDir: elsewhere,
          targets: ["node"],
          sigstore,
          containmentReport: report("breached"),
        }),
      ).rejects.toThrow(/verdict "contained", found "breached"/);
      expect(existsSync(join(elsewhere, "ironclaw_3.0.1_node.tar.gz"))).toBe(false);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
