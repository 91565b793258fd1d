import { describe, expect, it } from "vitest";
import { colorEnabled } from "../src/terminal/color.js";
import {
  formatBytes,
  PROGRESS_MIN_BYTES,
  progressOnTerminal,
  renderProgressLine,
} from "../src/terminal/progress.js";

describe("colorEnabled", () => {
  const tty = { write: () => true, isTTY: true };
  it("colours a terminal", () => expect(colorEnabled(tty, {})).toBe(true));
  it("never colours a pipe", () => expect(colorEnabled({ write: () => true }, {})).toBe(false));
  it("never colours with NO_COLOR set", () => expect(colorEnabled(tty, { NO_COLOR: "0" })).toBe(false));
  it("ignores an empty NO_COLOR, as no-color.org says", () =>
    expect(colorEnabled(tty, { NO_COLOR: "" })).toBe(true));
  it("never colours TERM=dumb", () => expect(colorEnabled(tty, { TERM: "dumb" })).toBe(false));
});

describe("progress", () => {
  it("renders a bar with percentage and sizes", () => {
    expect(renderProgressLine("hashing x", 512 * 1024 * 1024, 1024 * 1024 * 1024)).toBe(
      "hashing x [############------------]  50% 512.0 MiB / 1.0 GiB",
    );
    expect(formatBytes(1023)).toBe("1023 B");
  });

  it("shows the rate and the time left once time has passed, and bytes and rate for an unknown total", () => {
    const mib = 1024 * 1024;
    expect(renderProgressLine("downloading a", 10 * mib, 35 * mib, 10_000)).toBe(
      "downloading a [#######-----------------]  28% 10.0 MiB / 35.0 MiB, 1.0 MiB/s, 25 s left",
    );
    expect(renderProgressLine("downloading a", 1 * mib, 512 * mib, 10_000)).toBe(
      "downloading a [------------------------]   0% 1.0 MiB / 512.0 MiB, 102.4 KiB/s, 85 min 10 s left",
    );
    expect(renderProgressLine("downloading a", 35 * mib, 35 * mib, 35_000)).toBe(
      "downloading a [########################] 100% 35.0 MiB / 35.0 MiB, 1.0 MiB/s",
    );
    expect(renderProgressLine("downloading a", 40 * mib, undefined, 20_000)).toBe(
      "downloading a 40.0 MiB, 2.0 MiB/s",
    );
  });

  it("draws on a terminal, throttled, and clears its line when done", () => {
    let out = "";
    let time = 0;
    const progress = progressOnTerminal(
      { write: (text: string) => (out += text), isTTY: true },
      "h",
      () => time,
    );
    const total = PROGRESS_MIN_BYTES * 4;
    time = 1000;
    progress.update(total / 4, total);
    time = 1050;
    progress.update(total / 2, total); // Within 100 ms of the last draw: skipped.
    time = 1200;
    progress.update(total, total);
    progress.finish();
    expect(out.match(/\r\u001b\[2K/g)).toHaveLength(3);
    expect(out).toContain(" 25% ");
    expect(out).not.toContain(" 50% ");
    expect(out).toContain("100% ");
  });

  it("stays silent off a terminal and for small files", () => {
    let out = "";
    const pipe = progressOnTerminal({ write: (text: string) => (out += text) }, "h");
    pipe.update(PROGRESS_MIN_BYTES * 2, PROGRESS_MIN_BYTES * 4);
    const small = progressOnTerminal({ write: (text: string) => (out += text), isTTY: true }, "h");
    small.update(10, 20);
    small.finish();
    expect(out).toBe("");
  });
});
