import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalSigstore } from "@ironclaw/sigstore-local";
import { parseChecksums } from "@ironclaw/verify/checksums";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  flipByte,
  REPOSITORY,
  ROOT,
  removeAll,
  signedRelease,
  variant,
} from "../../cli/test/release-fixture.js";
import { ACTION_BUNDLE_NAME, bundleAction } from "../src/bundle.js";
import {
  type ActionInputValues,
  errorAnnotations,
  inputEnvironment,
  parseOutputs,
  summaryRows,
} from "./actions-env.js";

const VERSION = "0.9.1";
const ARCHIVE = `ironclaw_${VERSION}_node.tar.gz`;

let sigstore: LocalSigstore;
let release: string;
let bundle: Uint8Array;
let work: string;
const made: string[] = [];

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
  [release, bundle] = await Promise.all([signedRelease(sigstore, VERSION), bundleAction(ROOT)]);
  // Outside the repository, so the bundle cannot lean on node_modules or the workspace.
  work = mkdtempSync(join(tmpdir(), "ironclaw-action-bundle-"));
  made.push(release, work);
  writeFileSync(join(work, ACTION_BUNDLE_NAME), bundle);
}, 120_000);
afterAll(async () => {
  await sigstore.stop();
  removeAll(...made);
});

interface ChildRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
}

/** Starts the bundle as the runner starts `runs.main`: node, INPUT_* variables, the runner's files, nothing else. */
function runBundle(inputs: ActionInputValues, runnerFiles = true): ChildRun {
  const runner = mkdtempSync(join(tmpdir(), "ironclaw-action-runner-"));
  made.push(runner);
  const [output, summary] = [join(runner, "output"), join(runner, "summary")];
  writeFileSync(output, "");
  writeFileSync(summary, "");
  const child = spawnSync(process.execPath, [join(work, ACTION_BUNDLE_NAME)], {
    cwd: work,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      ...inputEnvironment(inputs),
      ...(runnerFiles ? { GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary } : {}),
    },
    timeout: 60_000,
  });
  return {
    code: child.status,
    stdout: child.stdout,
    stderr: child.stderr,
    outputs: parseOutputs(readFileSync(output, "utf8")),
    summary: readFileSync(summary, "utf8"),
  };
}

const inputsFor = (dir: string): ActionInputValues => ({
  directory: dir,
  repository: REPOSITORY,
  "trusted-root": join(dir, "trusted_root.json"),
});

describe("the bundled Action", () => {
  it("is one deterministic CommonJS file with no source map and no path of this machine", async () => {
    const again = await bundleAction(ROOT);
    expect(Buffer.from(again).equals(Buffer.from(bundle))).toBe(true);
    const text = Buffer.from(bundle).toString("utf8");
    expect(text).not.toContain("sourceMappingURL");
    expect(text).not.toContain(ROOT);
  });

  it("verifies a release:local set stand-alone, with outputs and the summary table", () => {
    const result = runBundle(inputsFor(release));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.outputs).toMatchObject({ verified: "true", version: VERSION, tag: `v${VERSION}` });
    expect(result.outputs.commit).toMatch(/^[0-9a-f]{40}$/);
    const rows = summaryRows(result.summary);
    const listed = parseChecksums(readFileSync(join(release, "SHA256SUMS"))).entries.map((e) => e.name);
    expect([...new Set(rows.map((row) => row.file))]).toEqual(listed);
    expect(rows.filter((row) => row.file === ARCHIVE).map((row) => row.check)).toEqual([
      "signature",
      "checksum",
      "provenance",
      "version",
    ]);
    expect(rows.every((row) => row.result === "✓")).toBe(true);
    expect(errorAnnotations(result.stdout)).toEqual([]);
  });

  it("fails stand-alone on a tampered set, with annotations and ✗ rows", () => {
    const dir = variant(release, "bundle-flipped");
    made.push(dir);
    flipByte(join(dir, ARCHIVE));
    const result = runBundle(inputsFor(dir));
    expect(result.code).toBe(1);
    expect(result.outputs).toEqual({ verified: "false" });
    expect(errorAnnotations(result.stdout).map((a) => a.title)).toEqual([
      `${ARCHIVE}: checksum check failed`,
      `${ARCHIVE}: provenance check failed`,
      "",
    ]);
    expect(
      summaryRows(result.summary)
        .filter((row) => row.result === "✗")
        .map((row) => row.check),
    ).toEqual(["checksum", "provenance"]);
  });

  it("still verifies, with a warning, where the runner offers no job summary", () => {
    const result = runBundle(inputsFor(release), false);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^::warning title=No job summary::the job summary was not written/m);
    // Without $GITHUB_OUTPUT, @actions/core falls back to the set-output command on stdout.
    expect(result.stdout).toContain("::set-output name=verified::true");
  });
});
