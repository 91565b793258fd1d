import { stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CHANGE_KINDS } from "../../src/changes/kinds.js";
import { Gateway } from "../../src/gateway.js";
import { agentPrincipal, OPERATOR, temporaryDirectories } from "../helpers.js";

/**
 * Finding 2 of the adversarial audit: the pending cap counted the agent a payload names, so one agent
 * token filed 500 create_agent changes, each for a new name (8 MB of log in seconds).
 */
const newDir = temporaryDirectories();
const logSize = async (dir: string) => (await stat(join(dir, "events.jsonl"))).size;

async function withAgents(dir: string, names: readonly string[], options = {}) {
  const gateway = await Gateway.open({ stateDir: dir, pendingCap: 4, pendingTotalCap: 6, ...options });
  for (const agent of names) {
    const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent } });
    await gateway.approve(OPERATOR, change.id, { digest: change.digest });
  }
  return gateway;
}

describe("pending caps", () => {
  it("count the requester, not the agent a payload names, and refuse over the cap without recording", async () => {
    const dir = await newDir();
    const gateway = await withAgents(dir, ["alpha"]);
    const alpha = agentPrincipal("alpha");
    for (let i = 0; i < 4; i++) {
      const { change } = await gateway.submit(alpha, {
        kind: "create_agent",
        payload: { agent: `new-${i}` },
      });
      expect(change.state).toBe("pending");
    }
    const before = await logSize(dir);
    for (let i = 4; i < 50; i++) {
      await expect(
        gateway.submit(alpha, {
          kind: "create_agent",
          payload: { agent: `new-${i}`, persona: { name: "x", instructions: "y".repeat(16_000) } },
        }),
      ).rejects.toMatchObject({ code: "IC_API_RATE_LIMITED" });
    }
    // 46 refusals, of 16 KB payloads each, wrote nothing.
    expect(await logSize(dir)).toBe(before);
    // A malformed request over the cap is not recorded either.
    await expect(
      gateway.submit(alpha, { kind: "persona", payload: { nonsense: true } }),
    ).rejects.toMatchObject({
      code: "IC_API_RATE_LIMITED",
    });
    expect(await logSize(dir)).toBe(before);
    // Another requester still can; a decision frees a place.
    expect(
      (await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "op-1" } })).change.state,
    ).toBe("pending");
    await gateway.cancel(alpha, "c2", {});
    expect(
      (await gateway.submit(alpha, { kind: "create_agent", payload: { agent: "again" } })).change.state,
    ).toBe("pending");
    await gateway.close();
  });

  it("hold for every kind, and in total across requesters", async () => {
    const dir = await newDir();
    const gateway = await withAgents(dir, ["alpha", "beta", "gamma"], {
      pendingCap: CHANGE_KINDS.length + 10,
      pendingTotalCap: 6,
    });
    const payloads: Record<string, unknown> = {
      persona: { agent: "alpha", persona: { name: "p", instructions: "" } },
      enabled_tools: { agent: "alpha", tools: [] },
      packages: { agent: "alpha", packages: [] },
      wiring: { agent: "alpha", peers: [] },
      permissions: { agent: "alpha", grants: [] },
      mounts: { agent: "alpha", mounts: [] },
      create_agent: { agent: "delta" },
      egress: { agent: "alpha", action: "allow", host: "example.com", port: 443 },
      mcp_servers: { agent: "alpha", servers: [] },
      skills: { agent: "alpha", skills: [] },
      model: {
        agent: "alpha",
        action: "set",
        provider: "mock",
        model: "mock-1",
        maxOutputTokens: 1000,
        dailyTokens: 100_000,
      },
    };
    const submitters = [agentPrincipal("alpha"), agentPrincipal("beta"), agentPrincipal("gamma"), OPERATOR];
    let pending = 0;
    let refusedAt: number | undefined;
    for (const [index, kind] of CHANGE_KINDS.entries()) {
      const principal = submitters[index % submitters.length] as (typeof submitters)[number];
      const payload = { ...(payloads[kind] as object), agent: principal.agent ?? "alpha" };
      if (kind === "create_agent") Object.assign(payload, { agent: "delta" });
      const attempt = gateway.submit(principal, { kind, payload });
      if (pending < 6) {
        const { change } = await attempt;
        if (change.state === "pending") pending += 1;
      } else {
        await expect(attempt).rejects.toMatchObject({ code: "IC_API_RATE_LIMITED" });
        refusedAt ??= index;
      }
    }
    expect(pending).toBe(6);
    expect(refusedAt).toBeDefined();
    await gateway.close();
  });
});
