import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { findSystemTool, haveSystemTools } from "../../../test/support/system-tools.js";
import type { ConsoleOptions } from "../src/index.js";
import { type Harness, startHarness } from "./harness.js";

/** Whether Debian's chromium is here; without it the browser suites are skipped and named (CI requires it). */
export const haveChromium = haveSystemTools("the approvals console in a real browser", ["chromium"]);

export interface Watched {
  readonly page: Page;
  /** Console errors, page errors and CSP violations: our own page must produce none. */
  readonly problems: string[];
  readonly requests: string[];
}

export interface BrowserSuite {
  context(): BrowserContext;
  harness(clock?: () => Date, options?: Partial<ConsoleOptions>): Promise<Harness>;
  openConsole(h: Harness): Promise<Watched>;
  signIn(page: Page, token: string): Promise<void>;
}

/** Call inside a describe: one chromium with a fresh profile for the suite, a fresh console per test. */
export function browserSuite(): BrowserSuite {
  let context: BrowserContext | undefined;
  let profile = "";
  const open: Harness[] = [];
  beforeAll(async () => {
    profile = await mkdtemp(join(tmpdir(), "ironclaw-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: findSystemTool("chromium") as string,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        // Containers often give /dev/shm 64 MB, which chromium outgrows.
        "--disable-dev-shm-usage",
      ],
      viewport: { width: 1100, height: 900 },
    });
  }, 60_000);
  afterEach(async () => {
    for (const page of context?.pages() ?? []) await page.close();
    await context?.clearCookies();
    for (const h of open.splice(0)) await h.close();
  });
  afterAll(async () => {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
  });
  const current = () => {
    if (context === undefined) throw new Error("chromium did not start");
    return context;
  };
  return {
    context: current,
    async harness(clock, options = {}) {
      const h = await startHarness(options, clock);
      open.push(h);
      return h;
    },
    async openConsole(h) {
      const page = await current().newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`console: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      page.on("request", (request) => requests.push(request.url()));
      await page.exposeFunction("reportViolation", (text: string) => problems.push(`CSP: ${text}`));
      // A string, not a function: the test's TypeScript knows no DOM, the page does.
      await page.addInitScript(
        'document.addEventListener("securitypolicyviolation", (e) => window.reportViolation(e.violatedDirective + " " + e.blockedURI));',
      );
      await page.goto(`${h.console.url}/`);
      return { page, problems, requests };
    },
    async signIn(page, token) {
      await page.fill("#token", token);
      await page.click("#sign-in button[type=submit]");
      await page.waitForSelector("#pending");
    },
  };
}
