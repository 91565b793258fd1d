import { spawnSync } from "node:child_process";
import { closeSync, constants, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { descriptorOutput } from "../src/io.js";
import { temporaryDirectory } from "./helpers.js";

/** Stands in for process.stdout: records what it is handed. */
function recordingStream(isTTY = false) {
  const written: string[] = [];
  let built = 0;
  const stream = { isTTY, write: (text: string | Uint8Array) => written.push(Buffer.from(text).toString()) };
  return {
    written,
    built: () => built,
    stream: () => {
      built += 1;
      return stream as unknown as NodeJS.WriteStream;
    },
  };
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

describe("command output written straight to its descriptor", () => {
  it("writes to a file without ever building the stream, and says a file is no terminal", () => {
    const dir = temporaryDirectory("ironclaw-descriptor-output-");
    cleanup.push(dir.remove);
    const fd = openSync(join(dir.path, "out"), "w");
    cleanup.push(() => closeSync(fd));
    const recorder = recordingStream(true);
    const output = descriptorOutput(fd, recorder.stream);
    output.write("one\n");
    output.write("two ✓\n");
    expect(output.isTTY).toBe(false);
    expect(readFileSync(join(dir.path, "out"), "utf8")).toBe("one\ntwo ✓\n");
    expect(recorder.built()).toBe(0);
  });

  it("hands the rest to the stream, in order, when a non-blocking pipe is full", () => {
    const dir = temporaryDirectory("ironclaw-descriptor-output-");
    cleanup.push(dir.remove);
    const fifo = join(dir.path, "fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    // Read-write and non-blocking: a pipe no one drains, so writes past its capacity fail with EAGAIN.
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    cleanup.push(() => closeSync(fd));
    const recorder = recordingStream();
    const output = descriptorOutput(fd, recorder.stream);
    const text = Array.from({ length: 40_000 }, (_, i) => `${i}\n`).join("");
    output.write(text);
    output.write("after\n");
    expect(recorder.built()).toBe(1);
    const piped = Buffer.alloc(text.length);
    let length = 0;
    for (;;) {
      try {
        const n = readSync(fd, piped, length, piped.length - length, null);
        if (n === 0) break;
        length += n;
      } catch {
        break; // EAGAIN: the pipe is empty.
      }
    }
    expect(length).toBeGreaterThan(0);
    expect(length).toBeLessThan(text.length);
    expect(piped.subarray(0, length).toString() + recorder.written.join("")).toBe(`${text}after\n`);
  });

  it("hands everything to the stream when the descriptor is closed", () => {
    const dir = temporaryDirectory("ironclaw-descriptor-output-");
    cleanup.push(dir.remove);
    writeFileSync(join(dir.path, "f"), "");
    const fd = openSync(join(dir.path, "f"), "r");
    closeSync(fd);
    const recorder = recordingStream();
    const output = descriptorOutput(fd, recorder.stream);
    output.write("lost?\n");
    expect(recorder.written).toEqual(["lost?\n"]);
  });
});
