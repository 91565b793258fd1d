import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { temporaryDirectories } from "../helpers.js";
import { call, socketOf, world } from "./helpers.js";

/**
 * An outside attack on the agent API: the agent in the sandbox is compromised and speaks raw HTTP on
 * its socket. Who calls is decided by the socket, so nothing it claims in a request makes it another
 * agent; and one agent may not use up the gateway's file descriptors, which every agent shares.
 */
const newDir = temporaryDirectories();

/** A request with extra headers, as a compromised agent would forge them. */
const forged = (
  socketPath: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) => call(socketPath, method, path, body, headers);

describe("a compromised agent at its API", () => {
  it("cannot claim to be another agent by header, query or body", async () => {
    const w = await world(await newDir(), ["alpha", "beta"]);
    try {
      await w.gateway.sendMessage({ id: "operator", role: "operator" }, "beta", { text: "for beta only" });
      const claims = {
        "x-ironclaw-agent": "beta",
        authorization: "Bearer agent:beta",
        forwarded: "for=beta",
      };
      const inbox = await forged(socketOf(w, "alpha"), "GET", "/v1/messages?agent=beta&after=0", claims);
      expect(inbox.status).toBe(200);
      expect(JSON.stringify(inbox.json)).not.toContain("for beta only");
      const self = await forged(socketOf(w, "alpha"), "GET", "/v1/self?agent=beta", claims);
      expect((self.json.agent as { name: string }).name).toBe("alpha");
      const change = await forged(socketOf(w, "alpha"), "POST", "/v1/changes", claims, {
        kind: "enabled_tools",
        payload: { agent: "beta", tools: ["http_fetch"] },
      });
      expect(change.status).toBe(403);
      expect((change.json.error as { code: string }).code).toBe("IC_CHANGE_FORBIDDEN");
      // As the operator's message, under another agent's name: posted as alpha's own reply, or refused.
      const reply = await forged(socketOf(w, "alpha"), "POST", "/v1/messages", claims, {
        text: "hi",
        from: "agent:beta",
      });
      expect(reply.status).toBe(400);
      expect(w.gateway.messages({ id: "operator", role: "operator" }, "beta", "out", 0)).toEqual([]);
    } finally {
      await w.close();
    }
  });

  it("cannot hold open more than a bounded number of connections, and other agents still answer", async () => {
    const w = await world(await newDir(), ["alpha", "beta"]);
    const flood: { socket: Socket; closed: boolean }[] = [];
    try {
      for (let i = 0; i < 160; i += 1) {
        const entry = { socket: connect(socketOf(w, "alpha")), closed: false };
        entry.socket.on("error", () => {});
        entry.socket.on("close", () => {
          entry.closed = true;
        });
        flood.push(entry);
      }
      // The gateway keeps at most 64 of them; the rest are closed at once, not held.
      await expect.poll(() => flood.filter((e) => e.closed).length).toBeGreaterThanOrEqual(96);
      expect((await call(socketOf(w, "beta"), "GET", "/v1/self")).status).toBe(200);
      for (const entry of flood) entry.socket.destroy();
      await expect
        .poll(
          async () =>
            (await call(socketOf(w, "alpha"), "GET", "/v1/self").catch(() => ({ status: 0 }))).status,
        )
        .toBe(200);
    } finally {
      for (const entry of flood) entry.socket.destroy();
      await w.close();
    }
  });

  it("cannot get more changes pending than its cap by submitting them all at once", async () => {
    const w = await world(await newDir(), ["alpha"], { pendingCap: 4, pendingTotalCap: 8 });
    try {
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          call(socketOf(w, "alpha"), "POST", "/v1/changes", {
            kind: "persona",
            payload: { agent: "alpha", persona: { name: `p${i}`, instructions: "" } },
          }),
        ),
      );
      const pending = w.gateway.list({ id: "operator", role: "operator" }, { state: "pending" });
      expect(pending).toHaveLength(4);
      expect(replies.filter((r) => r.status === 201)).toHaveLength(4);
      // The rest: refused before anything is recorded, or by the chain's own cap check if they raced it.
      for (const reply of replies.filter((r) => r.status !== 201)) expect([422, 429]).toContain(reply.status);
      const submitted = (await w.gateway.audit(0, 10_000)).filter((r) => r.type === "change.submitted");
      // One create_agent by the operator, and at most one record per request that raced the first check.
      expect(submitted.length).toBeLessThanOrEqual(41);
    } finally {
      await w.close();
    }
  });
});
