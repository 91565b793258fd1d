import { afterEach, describe, expect, it, vi } from "vitest";
import { isLiefNoteWarning, withoutLiefNoteWarnings } from "../src/lief-warnings.js";

afterEach(() => vi.restoreAllMocks());

describe("LIEF's note-section warnings during injection", () => {
  it("are recognised exactly", () => {
    expect(isLiefNoteWarning(["warning: Can't find string offset for section name '.note.100'"])).toBe(true);
    expect(isLiefNoteWarning(["warning: Can't find string offset for section name '.note'"])).toBe(true);
    expect(isLiefNoteWarning(["warning: Can't find string offset for section name '.text'"])).toBe(false);
    expect(isLiefNoteWarning(["error: Can't find string offset for section name '.note'"])).toBe(false);
    expect(isLiefNoteWarning(["warning: Can't find string offset for section name '.note.100'", "x"])).toBe(
      false,
    );
  });

  it("are dropped while the work runs, and every other warning still shows", async () => {
    const seen: unknown[][] = [];
    vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => {
      seen.push(args);
    });
    const result = await withoutLiefNoteWarnings(async () => {
      // What postject does: bind console.warn when its module loads, then call it.
      const printErr = console.warn.bind(console);
      printErr("warning: Can't find string offset for section name '.note.100'");
      printErr("warning: something else");
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).toEqual([["warning: something else"]]);
    console.warn("after");
    expect(seen.at(-1)).toEqual(["after"]);
  });
});
