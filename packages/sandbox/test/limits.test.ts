import { describe, expect, it } from "vitest";
import { limitCaveat, prlimitArgs } from "../src/limits.js";
import { maxOldSpaceMiB, permissionFlag } from "../src/node-flags.js";

describe("prlimitArgs", () => {
  it("always turns core dumps off", () => {
    expect(prlimitArgs(undefined)).toEqual(["--core=0"]);
  });

  it("sets each limit as soft = hard", () => {
    expect(
      prlimitArgs({ memoryBytes: 1024, cpuSeconds: 5, processes: 64, openFiles: 128, fileBytes: 4096 }),
    ).toEqual(["--core=0", "--data=1024", "--cpu=5", "--nproc=64", "--nofile=128", "--fsize=4096"]);
  });

  it("says RLIMIT_NPROC does not bind the host's root", () => {
    expect(limitCaveat("processes", 0)).toMatch(/not enforced/);
    expect(limitCaveat("processes", 1000)).toBeUndefined();
    expect(limitCaveat("memoryBytes", 0)).toBeUndefined();
  });
});

describe("node flags", () => {
  it("gives V8's old space three quarters of the memory", () => {
    expect(maxOldSpaceMiB(1024 * 1024 * 1024)).toBe(768);
    expect(maxOldSpaceMiB(1024)).toBe(16);
  });

  it("accepts a leading v", () => {
    expect(permissionFlag("v22.13.1")).toBe("--permission");
    expect(permissionFlag("v20.20.2")).toBe("--experimental-permission");
  });
});
