import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readSkips, renderSkipSummary } from "../../scripts/skip-summary.mjs";
import { findSystemTool, haveSystemTools, REQUIRE_ENV, SKIP_LOG_ENV } from "./system-tools.js";

const ROOT = new URL("../../", import.meta.url).pathname;
let dir: string;
let saved: Record<string, string | undefined>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ironclaw-skip-test-"));
  saved = { log: process.env[SKIP_LOG_ENV], require: process.env[REQUIRE_ENV] };
  process.env[SKIP_LOG_ENV] = join(dir, "skips.jsonl");
  delete process.env[REQUIRE_ENV];
  // The skips these tests record are examples: keep their "SKIPPED" lines out of the run's output.
  vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  for (const [key, name] of [
    ["log", SKIP_LOG_ENV],
    ["require", REQUIRE_ENV],
  ] as const) {
    if (saved[key] === undefined) delete process.env[name];
    else process.env[name] = saved[key];
  }
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

describe("suites that need a system tool", () => {
  it("run where the tools are", () => {
    expect(findSystemTool("node")).toBeDefined();
    expect(haveSystemTools("a suite", ["node"])).toBe(true);
    expect(readSkips(process.env[SKIP_LOG_ENV])).toEqual([]);
  });

  it("are skipped and recorded, with their package, where a tool is missing", () => {
    expect(haveSystemTools("BusyBox suite", ["busybox-that-is-not-here", "node"])).toBe(false);
    expect(readSkips(process.env[SKIP_LOG_ENV])).toEqual([
      {
        suite: "BusyBox suite",
        missing: ["busybox-that-is-not-here"],
        packages: ["busybox-that-is-not-here"],
      },
    ]);
  });

  it("fail, naming the tools and the install line, when IRONCLAW_REQUIRE_SYSTEM_TOOLS=1", () => {
    process.env[REQUIRE_ENV] = "1";
    process.env.IRONCLAW_PRETEND_MISSING = "busybox,shellcheck";
    try {
      expect(() => haveSystemTools("installers", ["busybox", "shellcheck", "node"])).toThrow(
        "installers needs busybox, shellcheck, which this machine lacks, and IRONCLAW_REQUIRE_SYSTEM_TOOLS=1 makes every suite mandatory: apt-get install -y busybox shellcheck",
      );
    } finally {
      delete process.env.IRONCLAW_PRETEND_MISSING;
    }
  });

  it("are summed up in one box with one apt-get line", () => {
    const summary = renderSkipSummary([
      { suite: "a", missing: ["bwrap"], packages: ["bubblewrap"] },
      { suite: "b", missing: ["busybox", "dash"], packages: ["busybox", "dash"] },
      { suite: "a", missing: ["bwrap"], packages: ["bubblewrap"] },
      { suite: "corpus", missing: [], packages: [], reason: "no corpus" },
    ]);
    expect(summary).toContain("npm test: 3 suites SKIPPED on this machine (CI runs them all):");
    expect(summary).toContain("!!   - b: needs busybox, dash");
    expect(summary).toContain("!!   - corpus: no corpus");
    expect(summary).toContain("To run them: sudo apt-get install -y bubblewrap busybox dash");
    expect(renderSkipSummary([])).toBeUndefined();
  });
});

describe("a vitest run on a machine without bubblewrap", () => {
  const run = (extra: Record<string, string>) => {
    // A user's machine: no CI, no requirement, no summary log of an outer npm test.
    const env: Record<string, string | undefined> = {
      ...process.env,
      IRONCLAW_PRETEND_MISSING: "bwrap",
      ...extra,
    };
    for (const name of ["CI", SKIP_LOG_ENV, ...(REQUIRE_ENV in extra ? [] : [REQUIRE_ENV])]) delete env[name];
    return spawnSync(
      process.execPath,
      [join(ROOT, "node_modules/vitest/vitest.mjs"), "run", "packages/sandbox/test/launch.test.ts"],
      { cwd: ROOT, encoding: "utf8", env, timeout: 120_000 },
    );
  };

  it("passes, skipping the sandbox suite, and ends with the summary", () => {
    const result = run({});
    expect(result.status, result.stderr).toBe(0);
    const output = `${result.stdout}${result.stderr}`;
    expect(output).toMatch(
      /!! npm test: 1 suite SKIPPED on this machine \(CI runs them all\):\n!! {3}- real sandboxes: .*: needs bwrap\n!! To run them: sudo apt-get install -y bubblewrap\n/,
    );
  }, 120_000);

  it("fails, naming bubblewrap, with IRONCLAW_REQUIRE_SYSTEM_TOOLS=1", () => {
    const result = run({ [REQUIRE_ENV]: "1" });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain("needs bwrap, which this machine lacks");
  }, 120_000);
});
