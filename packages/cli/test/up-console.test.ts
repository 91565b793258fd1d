import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN } from "./helpers.js";

/** `ironclaw up --console`: the built command serves the console on its own listener, or refuses the address. */
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ironclaw-cli-console-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return join(dir, "state");
}

describe("ironclaw up --console", () => {
  it("serves the console beside the API, and writes its refused sign-ins to the audit log", async () => {
    const state = await stateDir();
    const child = spawn(
      process.execPath,
      [
        BIN,
        "up",
        "--dev",
        "--listen",
        "127.0.0.1:0",
        "--console",
        "127.0.0.1:0",
        "--no-agents",
        "--json",
        "--state",
        state,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    cleanup.push(async () => {
      if (child.exitCode === null) {
        child.kill("SIGKILL");
        await once(child, "exit");
      }
    });
    let out = "";
    child.stdout.setEncoding("utf8");
    for await (const chunk of child.stdout) {
      out += chunk;
      if (out.includes("\n")) break;
    }
    const started = JSON.parse(out) as { url: string; console: string };
    expect(started.console).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started.console).not.toBe(started.url);
    const page = await fetch(`${started.console}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const refused = await fetch(`${started.console}/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: started.console },
      body: JSON.stringify({ token: "ic_operator_guess" }),
    });
    expect(refused.status).toBe(401);
    const operator = (await readFile(join(state, "tokens", "operator.token"), "utf8")).trim();
    const accepted = await fetch(`${started.console}/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: started.console },
      body: JSON.stringify({ token: operator }),
    });
    expect(accepted.status).toBe(200);
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(0);
    const log = await readFile(join(state, "events.jsonl"), "utf8");
    const failed = log
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; reason?: string; count?: number })
      .filter((record) => record.type === "auth.failed");
    expect(failed).toEqual([
      expect.objectContaining({ reason: "console: IC_CONSOLE_SIGN_IN unknown token", count: 1 }),
    ]);
  });

  it.each([["0.0.0.0:7879"], ["192.168.1.10:7879"]])("refuses to serve the console on %s", async (listen) => {
    const state = await stateDir();
    const result = spawnSync(
      process.execPath,
      [BIN, "up", "--dev", "--listen", "127.0.0.1:0", "--console", listen, "--no-agents", "--state", state],
      { encoding: "utf8", timeout: 20_000 },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("IC_API_BIND_REFUSED");
  });

  it("refuses a public console origin that is not https", async () => {
    const state = await stateDir();
    const result = spawnSync(
      process.execPath,
      [
        BIN,
        "up",
        "--dev",
        "--listen",
        "127.0.0.1:0",
        "--console",
        "127.0.0.1:0",
        "--console-origin",
        "http://console.tail1234.ts.net",
        "--no-agents",
        "--state",
        state,
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("https://name");
  });
});
