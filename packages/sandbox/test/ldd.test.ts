import { describe, expect, it } from "vitest";
import { parseLdd } from "../src/ldd.js";

describe("parseLdd", () => {
  it("keeps each library's path and the loader, skipping the vDSO", () => {
    const output = [
      "\tlinux-vdso.so.1 (0x00007ffd1c5f7000)",
      "\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007fae1cb19000)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fae1c5fe000)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007fae1cb31000)",
      "",
    ].join("\n");
    expect(parseLdd(output)).toEqual([
      "/lib/x86_64-linux-gnu/libdl.so.2",
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/lib64/ld-linux-x86-64.so.2",
    ]);
  });

  it("needs nothing for a static binary", () => {
    expect(parseLdd("\tnot a dynamic executable\n")).toEqual([]);
    expect(parseLdd("\tstatically linked\n")).toEqual([]);
  });

  it("fails on a library the loader cannot find, rather than leaving it out", () => {
    expect(() => parseLdd("\tlibfoo.so.1 => not found\n")).toThrow(
      expect.objectContaining({ code: "IC_SANDBOX_LDD_FAILED" }) as Error,
    );
    expect(() => parseLdd("\tsomething else entirely\n")).toThrow(
      expect.objectContaining({ code: "IC_SANDBOX_LDD_FAILED" }) as Error,
    );
  });
});
