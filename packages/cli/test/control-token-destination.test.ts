import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

/**
 * Finding 6 of the adversarial audit, the CLI's half: another user replaced api.json in a
 * world-writable state directory and the CLI sent the operator token to that user's listener. Here a
 * spy listener on loopback records every Authorization header it is sent; "another user" is nobody
 * (uid 65534), as the tests run as root.
 */
const NOBODY = 65534;
const TOKEN = `ic_operator_${"Q".repeat(43)}`;
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function spy(): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const server: Server = createServer((request, response) => {
    seen.push(request.headers.authorization ?? "");
    response.writeHead(200, { "content-type": "application/json" }).end('{"changes":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, seen };
}

async function stateWith(apiUrl: string): Promise<string> {
  const state = await mkdtemp(join(tmpdir(), "ironclaw-cli-dest-"));
  cleanup.push(() => rm(state, { recursive: true, force: true }));
  await mkdir(join(state, "tokens"), { mode: 0o700 });
  await writeFile(join(state, "tokens", "operator.token"), `${TOKEN}\n`, { mode: 0o600 });
  await writeFile(join(state, "api.json"), JSON.stringify({ url: apiUrl, pid: 1 }), { mode: 0o600 });
  return state;
}

const list = (state: string, ...extra: string[]) =>
  runCli(["changes", "list", "--state", state, ...extra], { cwd: state, env: {} });

describe("where the CLI sends a token", () => {
  it("sends it to the listener api.json names when the state directory is the user's own", async () => {
    const listener = await spy();
    const state = await stateWith(listener.url);
    const result = await list(state);
    expect(result.code).toBe(0);
    expect(listener.seen).toEqual([`Bearer ${TOKEN}`]);
  });

  it.each([
    ["a world-writable state directory", (s: string) => chmod(s, 0o777)],
    ["a group-writable state directory", (s: string) => chmod(s, 0o770)],
    ["a state directory owned by another user", (s: string) => chown(s, NOBODY, NOBODY)],
    ["an api.json owned by another user", (s: string) => chown(join(s, "api.json"), NOBODY, NOBODY)],
    ["an api.json others can write", (s: string) => chmod(join(s, "api.json"), 0o666)],
    [
      "an api.json that is a symbolic link",
      async (s: string) => {
        await writeFile(join(s, "elsewhere.json"), "{}", { mode: 0o600 });
        await rm(join(s, "api.json"));
        await symlink(join(s, "elsewhere.json"), join(s, "api.json"));
      },
    ],
  ])("refuses %s with exit 3, and sends nothing", async (_what, tamper) => {
    const listener = await spy();
    const state = await stateWith(listener.url);
    await tamper(state);
    const result = await list(state);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("IC_STATE_INVALID");
    expect(result.stderr).toContain("No token was sent");
    expect(listener.seen).toEqual([]);
  });

  it("sends a token only to loopback or this host's Tailscale address", async () => {
    const state = await stateWith("http://192.0.2.7:7878");
    const planted = await list(state);
    expect(planted.code).toBe(3);
    expect(planted.stderr).toContain("refusing to send a token to http://192.0.2.7:7878");
    const flagged = await list(state, "--url", "http://100.100.100.100:7878");
    expect(flagged.code).toBe(2);
    expect(flagged.stderr).toContain("No token was sent");
  });
});
