import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { browserSuite, haveChromium } from "./browser.js";
import { OPERATOR, withAgent } from "./harness.js";

/** The console in Debian's chromium: what it shows of agents, the log and odd input, and how it stays live. */
describe.skipIf(!haveChromium)("what the approvals console shows, in chromium", () => {
  const { harness, openConsole, signIn } = browserSuite();

  it("flags invisible and bidi characters in what it shows, even those the gateway would refuse", async () => {
    const h = await harness();
    await withAgent(h, { name: "helper", instructions: "Be brief." });
    const change = await h.submit("persona", {
      agent: "builder",
      persona: { name: "helper", instructions: "Be kind." },
    });
    const { page, problems } = await openConsole(h);
    await page.route("**/api/view", async (route) => {
      const response = await route.fetch();
      const view = (await response.json()) as {
        pending: { payload: { persona: { instructions: string } } }[];
      };
      for (const pending of view.pending)
        pending.payload.persona.instructions = "Be kind.\u200b\u202eTAHC\u{e0041}";
      await route.fulfill({ response, json: view });
    });
    await signIn(page, h.operatorToken);
    const card = page.locator(`article[data-change="${change.id}"]`);
    const flags = await card.locator("pre.diff .flag").allTextContents();
    expect(flags).toEqual(["[U+200B]", "[U+202E]", "[U+E0041]"]);
    await expect(card.locator(".warnings").textContent()).resolves.toMatch(
      /invisible character U\+200B.*U\+202E.*U\+E0041/s,
    );
    expect(problems).toEqual([]);
  });

  it("says UNATTESTED: no provenance, in capitals, for a package approved without provenance", async () => {
    const h = await harness();
    await withAgent(h, { name: "helper", instructions: "Be brief." });
    const pinned = {
      version: "1.0.0",
      integrity: `sha512-${"A".repeat(86)}==`,
      repository: "github.com/acme/tools",
    };
    const change = await h.submit("packages", {
      agent: "builder",
      packages: [
        { name: "echo-mcp", ...pinned },
        { name: "plain-mcp", ...pinned, allowUnattested: true },
      ],
    });
    const attested = await h.submit("packages", {
      agent: "builder",
      packages: [{ name: "echo-mcp", ...pinned }],
    });
    const { page, problems } = await openConsole(h);
    await signIn(page, h.operatorToken);
    const card = page.locator(`article[data-change="${change.id}"]`);
    await expect(card.locator(".unattested strong").textContent()).resolves.toBe("UNATTESTED: no provenance");
    await expect(card.locator(".unattested li").allTextContents()).resolves.toEqual(["plain-mcp@1.0.0"]);
    await page.locator(`article[data-change="${attested.id}"]`).waitFor();
    await expect(page.locator(`article[data-change="${attested.id}"] .unattested`).count()).resolves.toBe(0);
    expect(problems).toEqual([]);
  });

  it("sends a message to an agent from its card, shows its sandbox, and filters the audit log", async () => {
    const h = await harness(undefined, { agentStatus: (agent) => `status of ${agent} from the supervisor` });
    await withAgent(h, { name: "helper", instructions: "Be brief." });
    const { page, problems } = await openConsole(h);
    await signIn(page, h.operatorToken);
    const agent = page.locator('article[data-agent="builder"]');
    await expect(agent.textContent()).resolves.toContain('"name":"helper"');
    await expect(agent.locator(".sandbox").textContent()).resolves.toBe(
      "sandbox: status of builder from the supervisor",
    );
    await agent.locator("input.chat").fill("status <b>please</b>");
    await agent.locator("button.send").click();
    await agent.locator("ol.messages li").first().waitFor();
    await expect(agent.locator("ol.messages li").first().textContent()).resolves.toContain(
      "operator → : status <b>please</b>",
    );
    const sent = h.plane.gateway.messages(OPERATOR, "builder", "in", 0);
    expect(sent.map((m) => m.text)).toEqual(["status <b>please</b>"]);
    await page.fill("input.audit-filter", "change.approved");
    const types = await page.locator("#audit tbody tr td:nth-child(3)").allTextContents();
    expect(types).toEqual(["change.approved"]);
    expect(problems).toEqual([]);
  });

  it("verifies the log from the page, and says so when a record was altered on disk", async () => {
    const h = await harness();
    const change = await h.submit("create_agent", { agent: "builder" });
    const { page, problems } = await openConsole(h);
    await signIn(page, h.viewerToken);
    await page.click("button.verify");
    await page.locator(".verified.ok").waitFor({ timeout: 10_000 });
    await expect(page.locator(".verified").textContent()).resolves.toMatch(
      /^✓ \d+ records, hash chain intact/,
    );
    // Someone with the disk rewrites what the change asked for; the chain no longer holds.
    const log = join(h.dir, "events.jsonl");
    const text = await readFile(log, "utf8");
    await writeFile(log, text.replace('"agent":"builder"', '"agent":"builde2"'));
    expect(h.plane.gateway.show(OPERATOR, change.id).state).toBe("pending");
    await page.click("button.verify");
    await expect
      .poll(() => page.locator(".verified").textContent(), { timeout: 10_000 })
      .toMatch(/^✗ IC_AUDIT_CORRUPT: /);
    expect(await page.locator(".verified.error").count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it("shows a model change as the agent's model before and after, and the model on the agent's card", async () => {
    const h = await harness();
    await withAgent(h, { name: "helper", instructions: "Be brief." });
    const set = await h.submit("model", {
      agent: "builder",
      action: "set",
      provider: "mock",
      model: "mock-1",
      maxOutputTokens: 1024,
      dailyTokens: 100_000,
    });
    const { page, problems } = await openConsole(h);
    await signIn(page, h.operatorToken);
    const card = page.locator(`article[data-change="${set.id}"]`);
    const added = await card.locator("pre.diff .add").allTextContents();
    expect(added.join("\n")).toContain('"provider": "mock"');
    expect(added.join("\n")).toContain('"dailyTokens": 100000');
    // Before: the new agent has no model (no lines); the action and agent are not part of what it becomes.
    expect(await card.locator("pre.diff .del").allTextContents()).toEqual([]);
    expect(added.join("\n")).not.toContain("action");
    await h.plane.gateway.approve(OPERATOR, set.id, { digest: set.digest });
    const revoke = await h.submit("model", { agent: "builder", action: "revoke" });
    await page.reload();
    const agent = page.locator('article[data-agent="builder"]');
    await expect(agent.textContent()).resolves.toContain('"provider":"mock","model":"mock-1"');
    const revoked = page.locator(`article[data-change="${revoke.id}"]`);
    expect(await revoked.locator("pre.diff .add").allTextContents()).toEqual([]);
    expect((await revoked.locator("pre.diff .del").allTextContents()).join("\n")).toContain(
      '"model": "mock-1"',
    );
    expect(problems).toEqual([]);
  });

  it("treats an agent named constructor as a name, not as Object.prototype's", async () => {
    const h = await harness();
    const created = await h.submit("create_agent", { agent: "constructor" });
    const { page, problems } = await openConsole(h);
    await signIn(page, h.operatorToken);
    const card = page.locator(`article[data-change="${created.id}"]`);
    // Nothing exists yet: the whole entry is new, and nothing inherited is shown as its current state.
    expect(await card.locator("pre.diff .del").count()).toBe(0);
    await expect(card.locator("pre.diff").textContent()).resolves.toContain('"agent": "constructor"');
    expect(await page.locator("#agents article[data-agent]").count()).toBe(0);
    await card.locator("button.approve").click();
    await page.locator('#agents article[data-agent="constructor"]').waitFor({ timeout: 10_000 });
    const persona = await h.submit("persona", {
      agent: "constructor",
      persona: { name: "p", instructions: "hi" },
    });
    const diff = page.locator(`article[data-change="${persona.id}"] pre.diff`);
    await diff.waitFor({ timeout: 10_000 });
    // Its persona is null now: only additions, and the card of the agent is its own entry.
    expect(await diff.locator(".del").count()).toBe(0);
    await expect(diff.textContent()).resolves.toContain('"instructions": "hi"');
    await expect(page.locator('#agents article[data-agent="constructor"]').textContent()).resolves.toContain(
      "personanull",
    );
    expect(problems).toEqual([]);
  });
  it("keeps every tab live, and signs them all out when one signs out", async () => {
    const h = await harness();
    const first = await openConsole(h);
    await signIn(first.page, h.operatorToken);
    // A second tab shares the session cookie, and never saw the token.
    const second = await openConsole(h);
    await second.page.waitForSelector("#pending");
    const change = await h.submit("create_agent", { agent: "builder" });
    await second.page.locator(`article[data-change="${change.id}"]`).waitFor({ timeout: 10_000 });
    await first.page.click("#sign-out");
    await first.page.waitForSelector("#sign-in");
    await second.page.waitForSelector("#sign-in", { timeout: 10_000 });
    expect(await second.page.locator("article[data-change]").count()).toBe(0);
    expect([...first.problems, ...second.problems]).toEqual([]);
  });
});
