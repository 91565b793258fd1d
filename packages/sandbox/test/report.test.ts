import { describe, expect, it } from "vitest";
import type { InvariantDefinition, ProbeLine, RunName } from "../src/containment/invariants.js";
import { judge, verdictOf } from "../src/containment/report.js";
import { type ProbeRun, parseProbeOutput } from "../src/containment/run-probe.js";

const DEFINITIONS: InvariantDefinition[] = [
  { id: "net", description: "no network", expected: "denied", runs: ["sandbox", "namespaces"] },
  { id: "eval", description: "no eval", expected: "denied", runs: ["sandbox"] },
  { id: "control", description: "workspace writable", expected: "allowed", runs: ["sandbox"] },
];

function run(name: RunName, lines: ProbeLine[], finished = true): ProbeRun {
  // finished: printed its last line and exited 0.
  return {
    run: name,
    lines,
    observations: [],
    finished,
    exit: finished ? "exit code 0" : "exit code 70",
    stderr: "",
  };
}

const line = (invariant: string, observed: ProbeLine["observed"]): ProbeLine => ({
  invariant,
  observed,
  detail: "d",
});

describe("judge", () => {
  it("holds when every named run saw what was expected", () => {
    const results = judge(
      new Map([
        [
          "sandbox",
          run("sandbox", [line("net", "denied"), line("eval", "denied"), line("control", "allowed")]),
        ],
        ["namespaces", run("namespaces", [line("net", "denied")])],
      ]),
      DEFINITIONS,
    );
    expect(results.map((result) => [result.id, result.observed, result.held])).toEqual([
      ["net", "denied", true],
      ["eval", "denied", true],
      ["control", "allowed", true],
    ]);
    expect(verdictOf(results)).toBe("contained");
  });

  it("breaches when one run of two is allowed, and names it", () => {
    const results = judge(
      new Map([
        [
          "sandbox",
          run("sandbox", [line("net", "denied"), line("eval", "denied"), line("control", "allowed")]),
        ],
        ["namespaces", run("namespaces", [line("net", "allowed")])],
      ]),
      DEFINITIONS,
    );
    expect(results[0]).toMatchObject({ id: "net", observed: "allowed", held: false });
    expect(results[0]?.detail).toMatch(/namespaces: allowed/);
    expect(verdictOf(results)).toBe("breached");
  });

  it("fails closed: a crashed probe, a missing run or an inconclusive attempt does not hold", () => {
    const crashed = judge(
      new Map([["sandbox", run("sandbox", [line("net", "denied")], false)]]),
      DEFINITIONS,
    );
    expect(crashed.map((result) => [result.id, result.observed, result.held])).toEqual([
      ["net", "missing", false],
      ["eval", "missing", false],
      ["control", "missing", false],
    ]);
    expect(crashed[0]?.detail).toMatch(/sandbox: inconclusive \(.*it had printed denied/);
    expect(crashed[0]?.detail).toMatch(/namespaces: missing \(the run did not take place\)/);
    expect(crashed[1]?.detail).toMatch(/did not finish \(exit code 70\)/);
    const inconclusive = judge(
      new Map([
        [
          "sandbox",
          run("sandbox", [line("net", "denied"), line("eval", "inconclusive"), line("control", "allowed")]),
        ],
        ["namespaces", run("namespaces", [line("net", "denied")])],
      ]),
      DEFINITIONS,
    );
    expect(inconclusive[1]).toMatchObject({ observed: "inconclusive", held: false });
    expect(verdictOf(inconclusive)).toBe("breached");
  });

  it("counts a control that is denied as not held", () => {
    const results = judge(
      new Map([
        [
          "sandbox",
          run("sandbox", [line("net", "denied"), line("eval", "denied"), line("control", "denied")]),
        ],
        ["namespaces", run("namespaces", [line("net", "denied")])],
      ]),
      DEFINITIONS,
    );
    expect(results[2]).toMatchObject({ expected: "allowed", observed: "denied", held: false });
  });

  it("takes the worst of repeated lines for one invariant", () => {
    const results = judge(
      new Map([["sandbox", run("sandbox", [line("eval", "denied"), line("eval", "allowed")])]]),
      [DEFINITIONS[1] as InvariantDefinition],
    );
    expect(results[0]).toMatchObject({ observed: "allowed", held: false });
  });

  it("is never contained with nothing to judge", () => {
    expect(verdictOf([])).toBe("breached");
  });
});

describe("parseProbeOutput", () => {
  it("keeps the probe's lines and ignores anything else", () => {
    const output = [
      '{"invariant":"net","observed":"denied","detail":"ENETUNREACH"}',
      "(node:1) some warning",
      '{"invariant":"eval","observed":"maybe","detail":"x"}',
      '{"observation":"limits","values":{"Max cpu time":"60"}}',
      '{"done":"sandbox"}',
      "",
    ].join("\n");
    const parsed = parseProbeOutput(output);
    expect(parsed.lines).toEqual([{ invariant: "net", observed: "denied", detail: "ENETUNREACH" }]);
    expect(parsed.observations).toHaveLength(1);
    expect(parsed.finished).toBe(true);
  });
});
