import { readFile, stat } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuthAudit, cutToBytes } from "../../src/api/auth-audit.js";
import { startControlPlane } from "../../src/control-plane.js";
import { Gateway } from "../../src/gateway.js";
import { temporaryDirectories } from "../helpers.js";

/**
 * Finding 5 of the adversarial audit: every refused request wrote an fsync'd auth.failed record with
 * its whole path (up to 15 KB): 30 MB in 4 s from loopback, and a full disk stops the gateway.
 */
const newDir = temporaryDirectories();
const BUDGET = 64 * 1024;

/** A GET with a wrong token from a given loopback source address (all of 127.0.0.0/8 is loopback). */
function refused(url: URL, path: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        localAddress,
        agent: false,
        headers: { authorization: `Bearer ic_operator_${"A".repeat(43)}` },
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function authRecords(dir: string) {
  return (await readFile(join(dir, "events.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .filter((line) => line.includes('"type":"auth.'))
    .map((line) => ({
      bytes: Buffer.byteLength(line) + 1,
      record: JSON.parse(line) as Record<string, unknown>,
    }));
}

describe("auditing unauthenticated traffic", () => {
  it("writes one record per source and window, its path cut to 256 bytes, and never more than 64 KiB", async () => {
    const dir = await newDir();
    const plane = await startControlPlane({
      stateDir: dir,
      dev: true,
      listen: "127.0.0.1:0",
      // The per-address block is not what stops this: every request comes from another address.
      limits: { failedAuthPerWindow: 1_000_000 },
    });
    const url = new URL(plane.url);
    const before = (await stat(join(dir, "events.jsonl"))).size;
    const longPath = `/v1/${"x".repeat(8_000)}`;
    for (let i = 0; i < 20; i++) expect(await refused(url, longPath, "127.0.0.1")).toBe(401);
    for (let i = 0; i < 400; i++) {
      expect(await refused(url, longPath, `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`)).toBe(401);
    }
    await plane.close();
    const records = await authRecords(dir);
    const bytes = records.reduce((sum, r) => sum + r.bytes, 0);
    // Before: 420 records of over 8 KB each, about 3.5 MB.
    expect(bytes).toBeLessThanOrEqual(BUDGET);
    expect((await stat(join(dir, "events.jsonl"))).size - before).toBeLessThan(BUDGET + 4096);
    const fromLocalhost = records.filter((r) => r.record.remote === "127.0.0.1");
    expect(fromLocalhost).toHaveLength(1);
    expect(fromLocalhost[0]?.record).toMatchObject({ type: "auth.failed", count: 20 });
    for (const { record } of records) {
      if (typeof record.path === "string") expect(Buffer.byteLength(record.path)).toBeLessThanOrEqual(256);
    }
    // Every refused request is counted, in a source's record or in the summary of the rest.
    expect(records.reduce((sum, r) => sum + (r.record.count as number), 0)).toBe(420);
    expect(records.at(-1)?.record).toMatchObject({ remote: "(other sources)" });
  });

  it("starts a new record for a source in each window, and keeps the log within budget per window", async () => {
    const dir = await newDir();
    const gateway = await Gateway.open({ stateDir: dir });
    let now = 0;
    const audit = new AuthAudit({
      emit: (event) => gateway.recordSecurityEvent({ ...event }),
      now: () => now,
    });
    const event = (remote: string) =>
      ({
        type: "auth.failed",
        remote,
        method: "GET",
        path: "/v1/changes",
        reason: "an unknown token",
      }) as const;
    for (let i = 0; i < 5; i++) audit.note(event("100.64.0.1"));
    now += 60_000;
    audit.note(event("100.64.0.1")); // flushes the first window
    for (let i = 0; i < 20_000; i++) audit.note(event(`fd00::${i.toString(16)}`));
    audit.flush();
    await gateway.close();
    const records = await authRecords(dir);
    const first = records.filter((r) => r.record.remote === "100.64.0.1").map((r) => r.record.count);
    expect(first).toEqual([5, 1]);
    const secondWindow = records.slice(1);
    expect(secondWindow.reduce((sum, r) => sum + r.bytes, 0)).toBeLessThanOrEqual(BUDGET);
    expect(secondWindow.reduce((sum, r) => sum + (r.record.count as number), 0)).toBe(20_001);
  });

  it("cuts text at a character boundary", () => {
    expect(cutToBytes("é".repeat(200))).toBe("é".repeat(128));
    expect(cutToBytes(`a${"é".repeat(200)}`)).toBe(`a${"é".repeat(127)}`);
    expect(cutToBytes("short")).toBe("short");
  });
});
