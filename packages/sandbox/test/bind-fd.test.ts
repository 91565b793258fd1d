import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { bwrapBindsFds, helpOffersBindFd } from "../src/bind-fd.js";
import { findExecutable } from "../src/executables.js";
import { skipRealSandbox } from "./sandbox-gate.js";

describe.skipIf(skipRealSandbox)("bwrap's --bind-fd", () => {
  const bwrap = findExecutable("bwrap") as string;

  it("is found in this host's bwrap --help, and missing once those lines are gone", () => {
    // The installed bubblewrap's own help is the sample; the second is the same text without the two
    // options, as an older bubblewrap prints it (self-made: derived from the real one).
    const help = execFileSync(bwrap, ["--help"], { encoding: "utf8" });
    expect(helpOffersBindFd(help)).toBe(true);
    expect(bwrapBindsFds(bwrap)).toBe(true);
    const older = help
      .split("\n")
      .filter((line) => !/--(ro-)?bind-fd/.test(line))
      .join("\n");
    expect(older).toContain("--ro-bind SRC DEST");
    expect(helpOffersBindFd(older)).toBe(false);
  });

  it("counts a program that is not bwrap as lacking it", () => {
    expect(bwrapBindsFds("/bin/true")).toBe(false);
    expect(bwrapBindsFds("/nonexistent/bwrap")).toBe(false);
  });
});
