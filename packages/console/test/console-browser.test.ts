import { mkdir, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { browserSuite, haveChromium } from "./browser.js";
import { OPERATOR, withAgent } from "./harness.js";

/** The console in Debian's chromium: an operator's decisions, a viewer's, and an attacker's page. */
/**
 * The README's picture is this test's screenshot. It is written into docs/ only when asked
 * (IRONCLAW_UPDATE_SCREENSHOT=1), so that a test run never changes the checkout (other fonts, other
 * bytes); otherwise it goes to a temporary file, and is taken all the same.
 */
const SCREENSHOT =
  process.env.IRONCLAW_UPDATE_SCREENSHOT === "1"
    ? new URL("../../../docs/console.png", import.meta.url).pathname
    : join(tmpdir(), `ironclaw-console-${process.pid}.png`);

describe.skipIf(!haveChromium)("deciding in the approvals console, in chromium", () => {
  const { context, harness, openConsole, signIn } = browserSuite();

  it("signs in, shows a held change as a diff with odd characters flagged, and approves it", async () => {
    // A fixed clock, so the screenshot the README shows is the same picture on every run.
    const h = await harness(() => new Date("2026-06-01T09:30:00.000Z"));
    await withAgent(h, { name: "helper", instructions: "Answer questions about the build." });
    // A Cyrillic "а" in "pаssword" and a typed escape: both are shown, and flagged.
    const change = await h.submit("persona", {
      agent: "builder",
      persona: {
        name: "helper",
        instructions: "Answer questions about the build.\nNever print the pаssword \\u0041.",
      },
    });
    const { page, problems } = await openConsole(h);
    await signIn(page, h.operatorToken);
    const card = page.locator(`article[data-change="${change.id}"]`);
    await expect(card.locator("pre.diff .add").first().textContent()).resolves.toContain("Never print");
    await expect(card.locator("pre.diff .del").first().textContent()).resolves.toContain("Answer questions");
    await expect(card.locator(".flag").first().textContent()).resolves.toBe("а[U+0430]");
    await expect(card.locator(".warnings").textContent()).resolves.toMatch(
      /non-ASCII character U\+0430.*escape sequence \\u0041 /s,
    );
    await expect(card.locator(".shown-digest").textContent()).resolves.toBe(change.digest);
    await expect(card.textContent()).resolves.toContain("requested by operator");
    await expect(card.textContent()).resolves.toMatch(/verifiers passed: .*agent_reference/);
    // The token is gone from the page: not in storage, and the session cookie is out of script's reach.
    const stored = await page.evaluate(
      "JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie",
    );
    expect(stored).not.toContain(h.operatorToken);
    expect(stored).not.toContain("ic_console");
    await mkdir(new URL(".", `file://${SCREENSHOT}`).pathname, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect((await stat(SCREENSHOT)).size).toBeGreaterThan(10_000);
    if (process.env.IRONCLAW_UPDATE_SCREENSHOT !== "1") await rm(SCREENSHOT, { force: true });

    // Live: a change submitted now appears without a reload.
    const later = await h.submit("enabled_tools", { agent: "builder", tools: ["read_file"] });
    await page.waitForSelector(`article[data-change="${later.id}"]`, { timeout: 10_000 });

    await card.locator("button.approve").click();
    const result = page.locator(`[data-result="${change.id}"]`);
    await result.waitFor();
    await expect(result.textContent()).resolves.toMatch(/approved|applied/);
    expect(h.plane.gateway.show(OPERATOR, change.id).state).toBe("applied");
    expect(h.plane.gateway.registry.agents.builder?.persona?.instructions).toContain("pаssword");
    expect(problems).toEqual([]);
  });

  it("refuses an approval when the page displayed a payload other than the change's, and says why", async () => {
    const h = await harness();
    await withAgent(h, { name: "helper", instructions: "Be brief." });
    const change = await h.submit("persona", {
      agent: "builder",
      persona: { name: "helper", instructions: "Be kind." },
    });
    const { page, problems } = await openConsole(h);
    // Something between the gateway and the screen swaps the payload (and leaves the digest as it was).
    await page.route("**/api/view", async (route) => {
      const response = await route.fetch();
      const view = (await response.json()) as {
        pending: { payload: { persona: { instructions: string } } }[];
      };
      for (const pending of view.pending)
        pending.payload.persona.instructions = "Be kind. Also allow all egress.";
      await route.fulfill({ response, json: view });
    });
    await signIn(page, h.operatorToken);
    const card = page.locator(`article[data-change="${change.id}"]`);
    await expect(card.locator("pre.diff").textContent()).resolves.toContain("allow all egress");
    await expect(card.locator(".error").first().textContent()).resolves.toContain("not what was submitted");
    await card.locator("button.approve").click();
    await page.waitForSelector(`article[data-change="${change.id}"] .result.error`);
    await expect(card.locator(".result").textContent()).resolves.toMatch(
      /Refused \(IC_CHANGE_DIGEST_MISMATCH\)/,
    );
    expect(h.plane.gateway.show(OPERATOR, change.id).state).toBe("pending");
    const audit = await h.plane.gateway.audit(0, 1000);
    expect(audit.map((r) => r.type)).toContain("change.approval_refused");
    // The one error is the refusal itself.
    expect(problems).toEqual([
      "console: Failed to load resource: the server responded with a status of 409 (Conflict)",
    ]);
  });

  it("asks for a reason before rejecting, and records it", async () => {
    const h = await harness();
    const change = await h.submit("create_agent", { agent: "builder" });
    const { page, problems } = await openConsole(h);
    await signIn(page, h.operatorToken);
    const card = page.locator(`article[data-change="${change.id}"]`);
    await card.locator("button.reject").click();
    await expect(card.locator(".result.error").textContent()).resolves.toContain("Say why");
    expect(h.plane.gateway.show(OPERATOR, change.id).state).toBe("pending");
    await card.locator("input.reason").fill("not this week");
    await card.locator("button.reject").click();
    await page.locator(`[data-result="${change.id}"]`).waitFor();
    const rejected = h.plane.gateway.show(OPERATOR, change.id);
    expect(rejected).toMatchObject({ state: "rejected", reason: "not this week", decidedBy: "operator" });
    expect(problems).toEqual([]);
  });

  it("shows a viewer everything, with no buttons, and the server refuses the viewer's approval anyway", async () => {
    const h = await harness();
    const change = await h.submit("create_agent", { agent: "builder" });
    const { page, problems } = await openConsole(h);
    await signIn(page, h.viewerToken);
    const card = page.locator(`article[data-change="${change.id}"]`);
    await expect(card.locator(".shown-digest").textContent()).resolves.toBe(change.digest);
    expect(
      await page.locator("button.approve, button.reject, input.reason, input.chat, button.send").count(),
    ).toBe(0);
    await expect(page.locator("#pending").textContent()).resolves.toContain("can decide nothing");
    const answer = await page.evaluate(
      async ({ id, digest }) => {
        const session = (await (await fetch("/session")).json()) as { csrf: string };
        const response = await fetch(`/api/v1/changes/${id}/approve`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-csrf-token": session.csrf },
          body: JSON.stringify({ digest }),
        });
        return { status: response.status, body: await response.text() };
      },
      { id: change.id, digest: change.digest },
    );
    expect(answer.status).toBe(403);
    expect(answer.body).toContain("IC_API_FORBIDDEN");
    expect(h.plane.gateway.show(OPERATOR, change.id).state).toBe("pending");
    // The one error is the refusal this test provoked itself.
    expect(problems).toEqual([
      "console: Failed to load resource: the server responded with a status of 403 (Forbidden)",
    ]);
  });

  it("refuses a cross-site request and one without the CSRF token", async () => {
    const h = await harness();
    const change = await h.submit("create_agent", { agent: "builder" });
    const { page } = await openConsole(h);
    await signIn(page, h.operatorToken);
    // The same page, without the CSRF token: the cookie alone decides nothing.
    const bare = await page.evaluate(
      async ({ id, digest }) => {
        const response = await fetch(`/api/v1/changes/${id}/approve`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ digest }),
        });
        return { status: response.status, body: await response.text() };
      },
      { id: change.id, digest: change.digest },
    );
    expect(bare.status).toBe(403);
    expect(bare.body).toContain("IC_CONSOLE_CSRF");
    // An attacker's page on another port of the same host: the browser attaches the SameSite cookie
    // (same site), so only the Origin and CSRF checks stand in the way.
    const attacker = await attackerPage(h.console.url, change.id, change.digest);
    try {
      const attack = await context().newPage();
      await attack.goto(attacker.url);
      await expect
        .poll(() => h.events.map((e) => e.reason), { timeout: 10_000 })
        .toContain("console: IC_CONSOLE_CROSS_ORIGIN");
      // The same page from another site (localhost is not 127.0.0.1): SameSite=Strict withholds the cookie.
      await attack.goto(attacker.url.replace("127.0.0.1", "localhost"));
      await expect
        .poll(() => h.events.map((e) => e.reason), { timeout: 10_000 })
        .toContain("console: IC_CONSOLE_SIGNED_OUT");
    } finally {
      attacker.server.closeAllConnections();
      await new Promise((resolve) => attacker.server.close(resolve));
    }
    expect(h.plane.gateway.show(OPERATOR, change.id).state).toBe("pending");
  });

  it("renders a persona holding <script> and an onerror image as inert text", async () => {
    const h = await harness();
    await withAgent(h, { name: "helper", instructions: "Be brief." });
    const hostile =
      '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b onmouseover=alert(1)>hi</b>';
    const change = await h.submit("persona", {
      agent: "builder",
      persona: { name: "<img src=y onerror=alert(3)>", instructions: hostile },
    });
    const { page, problems, requests } = await openConsole(h);
    await signIn(page, h.operatorToken);
    const card = page.locator(`article[data-change="${change.id}"]`);
    await expect(card.locator("pre.diff").textContent()).resolves.toContain(
      "<script>window.__pwned = 1</script>",
    );
    await expect(card.locator("pre.diff").textContent()).resolves.toContain("<img src=y onerror=alert(3)>");
    expect(await page.locator("#app img, #app script, #app b").count()).toBe(0);
    await page.locator("pre.diff").first().hover();
    expect(await page.evaluate("typeof window.__pwned")).toBe("undefined");
    expect(requests.filter((url) => /\/[xy]$/.test(url))).toEqual([]);
    expect(problems).toEqual([]);
    // The watch above can say no: an HTML sink is refused by the policy (Trusted Types) and reported.
    await expect(page.evaluate("document.body.innerHTML = '<b>x</b>'")).rejects.toThrow(/TrustedHTML/);
    await expect.poll(() => problems.join("\n")).toContain("CSP: require-trusted-types-for");
  });
});

/** A page of another origin that tries to approve with the operator's cookie, by fetch and by form. */
async function attackerPage(
  consoleUrl: string,
  id: string,
  digest: string,
): Promise<{ server: Server; url: string }> {
  const target = `${consoleUrl}/api/v1/changes/${id}/approve`;
  const html = `<!doctype html><script>
fetch(${JSON.stringify(target)}, { method: "POST", mode: "no-cors", credentials: "include",
  headers: { "content-type": "text/plain" }, body: ${JSON.stringify(JSON.stringify({ digest }))} });
</script>`;
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html" });
    response.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}
