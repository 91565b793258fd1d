import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startControlPlane } from "../../src/control-plane.js";
import { temporaryDirectories } from "../helpers.js";

/** Finding 8: GET /v1/changes had no pagination; it pages with a cursor now. */
const newDir = temporaryDirectories();

describe("GET /v1/changes", () => {
  it("pages with a cursor, in submission order, and filters by state (held is pending)", async () => {
    const dir = await newDir();
    const plane = await startControlPlane({
      stateDir: dir,
      dev: true,
      listen: "127.0.0.1:0",
      pendingCap: 1000,
      pendingTotalCap: 1000,
    });
    try {
      const token = (await readFile(join(dir, "tokens", "operator.token"), "utf8")).trim();
      const get = async (path: string) => {
        const response = await fetch(`${plane.url}${path}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return {
          status: response.status,
          body: (await response.json()) as { changes: { id: string }[]; next: string | null },
        };
      };
      for (let i = 0; i < 250; i++) {
        await plane.gateway.submit(
          { id: "operator", role: "operator" },
          { kind: "create_agent", payload: { agent: `a${i}` } },
        );
      }
      const c3 = plane.gateway.show({ id: "operator", role: "operator" }, "c3");
      await plane.gateway.cancel({ id: "operator", role: "operator" }, c3.id, {});

      const ids: string[] = [];
      let after = "c0";
      let pages = 0;
      for (;;) {
        const { status, body } = await get(`/v1/changes?after=${after}`);
        expect(status).toBe(200);
        expect(body.changes.length).toBeLessThanOrEqual(100);
        ids.push(...body.changes.map((c) => c.id));
        pages += 1;
        if (body.next === null) break;
        after = body.next;
      }
      expect(pages).toBe(3);
      expect(ids).toEqual(Array.from({ length: 250 }, (_, i) => `c${i + 1}`));

      const held = await get("/v1/changes?state=held&limit=1000");
      expect(held.body.changes).toHaveLength(249);
      expect(held.body.next).toBeNull();
      const small = await get("/v1/changes?state=cancelled&limit=1");
      expect(small.body).toMatchObject({ changes: [{ id: "c3" }], next: null });
      expect((await get("/v1/changes?after=zz")).status).toBe(400);
      expect((await get("/v1/changes?limit=1001")).status).toBe(400);
    } finally {
      await plane.close();
    }
  });
});
