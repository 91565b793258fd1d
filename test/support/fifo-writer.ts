import { closeSync, constants, openSync, readdirSync, readFileSync } from "node:fs";
import { open } from "node:fs/promises";

/** Threads of this process blocked in a FIFO's open, waiting for the other end (Linux's wchan). */
function waitingOpens(): number {
  let count = 0;
  for (const task of readdirSync("/proc/self/task")) {
    try {
      if (readFileSync(`/proc/self/task/${task}/wchan`, "utf8") === "wait_for_partner") count++;
    } catch {}
  }
  return count;
}

/**
 * A writer blocked opening `fifo` (on a thread of libuv's pool), which shows whether anything opened
 * the FIFO for reading since, even for a moment: the kernel lets a waiting writer through then.
 * Resolves once the writer is waiting, so an open that comes later is not missed.
 */
export async function waitingWriter(
  fifo: string,
): Promise<{ opened(): Promise<boolean>; release(): Promise<void> }> {
  const before = waitingOpens();
  let opened = false;
  const writer = open(fifo, "w").then((handle) => {
    opened = true;
    return handle;
  });
  const deadline = Date.now() + 5_000;
  while (waitingOpens() <= before && !opened) {
    if (Date.now() > deadline) throw new Error(`no thread came to wait opening ${fifo}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return {
    // Whether the writer was let through: its thread left the wait (given a moment to be scheduled).
    async opened() {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return opened || waitingOpens() <= before;
    },
    async release() {
      const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      await (await writer).close();
      closeSync(reader);
    },
  };
}
