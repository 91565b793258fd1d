import { spawn } from "node:child_process";
import { once } from "node:events";
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EventLog } from "../../src/log/index.js";
import { readLines, stateDir, writeLines, writeLog } from "./helpers.js";

async function refusal(dir: string): Promise<unknown> {
  return EventLog.open({ dir }).then(
    async ({ log }) => {
      await log.close();
      return undefined;
    },
    (caught: unknown) => caught,
  );
}

describe("the state directory lock", () => {
  it("refuses a second open while the first is open, naming the holder's pid, and allows it after close", async () => {
    const dir = await stateDir();
    const { log } = await EventLog.open({ dir });
    const error = await refusal(dir);
    expect(error).toMatchObject({ name: "GatewayError", code: "IC_AUDIT_LOCKED" });
    expect((error as Error).message).toContain(String(process.pid));
    expect(await readFile(join(dir, "gateway.lock"), "utf8")).toBe(`${process.pid}\n`);
    await log.close();
    await expect(access(join(dir, "gateway.lock"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await refusal(dir)).toBeUndefined();
  });

  it("takes over a lock left by a process that died", async () => {
    const dir = await stateDir();
    await writeLog(dir, 2);
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await once(child, "exit");
    expect(child.pid).toBeDefined();
    await writeFile(join(dir, "gateway.lock"), `${child.pid}\n`, { mode: 0o600 });
    const { log, recovery } = await EventLog.open({ dir });
    expect(recovery.records).toBe(2);
    expect(await readFile(join(dir, "gateway.lock"), "utf8")).toBe(`${process.pid}\n`);
    await log.close();
  });

  it("does not take over a lock that holds no pid", async () => {
    const dir = await stateDir();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "gateway.lock"), "");
    expect(await refusal(dir)).toMatchObject({ code: "IC_AUDIT_LOCKED" });
  });

  it("is released when open refuses a damaged log", async () => {
    const dir = await stateDir();
    await writeLog(dir, 3);
    const lines = await readLines(dir);
    await writeLines(dir, lines.reverse());
    expect(await refusal(dir)).toMatchObject({ code: "IC_AUDIT_CORRUPT", record: 1 });
    await expect(access(join(dir, "gateway.lock"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
