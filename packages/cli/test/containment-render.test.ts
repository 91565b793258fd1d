import { CONTAINMENT_SCHEMA, type ContainmentReport, limitsReport } from "@ironclaw/sandbox";
import { describe, expect, it } from "vitest";
import { renderContainment } from "../src/runtime/containment.js";

const requested = { memoryBytes: 1024, cpuSeconds: 60, processes: 4096, openFiles: 256, fileBytes: 2048 };
const observed = {
  "Max data size": "1024",
  "Max cpu time": "60",
  "Max processes": "4096",
  "Max open files": "128",
  "Max file size": "2048",
};

function report(hostUid: number): ContainmentReport {
  return {
    schema: CONTAINMENT_SCHEMA,
    commit: "0".repeat(40),
    node: "20.20.2",
    bwrap: "bubblewrap 0.8.0",
    kernel: "6.1",
    limits: limitsReport(requested, observed, hostUid),
    invariants: [{ id: "network", expected: "refused", observed: "refused", held: true, detail: "" }],
    verdict: "contained",
  } as unknown as ContainmentReport;
}

describe("the containment report's text", () => {
  it("says why each limit is not enforced, in one line each", () => {
    const text = renderContainment(report(0), "1.0");
    expect(text).toContain(
      "limit processes is not enforced on this host: the sandbox runs as the host's root user, whom the kernel exempts from RLIMIT_NPROC; launch as a dedicated unprivileged uid",
    );
    expect(text).toContain(
      "limit openFiles is not enforced on this host: asked for 256, the sandbox sees 128",
    );
    expect(text).not.toContain("limit memoryBytes");
  });

  it("says nothing of limits that hold", () => {
    expect(renderContainment(report(1000), "1.0")).not.toContain("limit processes");
  });
});
