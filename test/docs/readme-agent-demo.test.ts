import { type ChildProcess, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loopbackTls } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipRealSandbox } from "../../packages/sandbox/test/sandbox-gate.js";
import { canMakeNetNamespaces, NetNamespace } from "../support/netns.js";
import { haveSystemTools } from "../support/system-tools.js";

const SUITE = "the README's AI agent demo (a network namespace serving example.com)";
const runnable = !skipRealSandbox && haveSystemTools(SUITE, ["openssl"]) && canMakeNetNamespaces(SUITE);

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const readme = readFileSync(join(root, "README.md"), "utf8");
const bin = join(root, "packages", "cli", "bin", "ironclaw.js");
/** example.com's address, held here on the namespace's loopback: a public address, as the broker requires. */
const EXAMPLE_ADDRESS = "93.184.215.14";
const PAGE = "<!doctype html><title>Example Domain</title><h1>Example Domain</h1><p>For use in examples.</p>";

/** The first `sh` block after a heading, one command per line, exactly as a user would paste it. */
function block(heading: string): string[] {
  const section = readme.slice(readme.indexOf(heading));
  const text = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return text.split("\n").filter((line) => line.trim() !== "");
}

const home = mkdtempSync(join(tmpdir(), "ironclaw-readme-agent-"));
let ns: NetNamespace | undefined;
let server: ChildProcess | undefined;
const served: string[] = [];
let env: NodeJS.ProcessEnv = {};

/** A README line, verbatim, through sh, in the namespace, from the checkout (where npx finds this build). */
function paste(line: string): { status: number | null; out: string } {
  // A line that leaves a process in the background: its output goes to a file, as a terminal would keep it.
  const stdio = line.endsWith("&") ? ["ignore", "ignore", "ignore"] : "pipe";
  const result = spawnSync("ip", ["netns", "exec", (ns as NetNamespace).name, "sh", "-c", line], {
    cwd: root,
    env,
    encoding: "utf8",
    timeout: 60_000,
    stdio: stdio as "pipe",
  });
  return { status: result.status, out: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

/** The CLI itself (not through npx), for the test's own waiting. */
function ironclaw(...args: string[]): string {
  return (ns as NetNamespace).run(process.execPath, [bin, ...args], { env, cwd: root });
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  if (!runnable) return;
  const tls = await loopbackTls({ dnsNames: ["example.com"] });
  writeFileSync(join(home, "ca.pem"), tls.caCert);
  writeFileSync(join(home, "leaf.key"), tls.leafKey);
  writeFileSync(join(home, "leaf.pem"), tls.leafCert);
  ns = NetNamespace.create({ "example.com": EXAMPLE_ADDRESS });
  // example.com, served on this machine: TLS with a certificate from a CA only this test's `up` trusts.
  server = ns.spawn(
    process.execPath,
    [
      "-e",
      `const fs = require("node:fs");
       require("node:https").createServer({ key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]) },
         (req, res) => { console.log(req.method + " " + req.url); res.writeHead(200, { "content-type": "text/html" }).end(${JSON.stringify(PAGE)}); })
         .listen(443, ${JSON.stringify(EXAMPLE_ADDRESS)}, () => console.log("listening"));`,
      join(home, "leaf.key"),
      join(home, "leaf.pem"),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  server.stdout?.on("data", (chunk) => served.push(...String(chunk).trim().split("\n")));
  await until("example.com to listen", () => (served.includes("listening") ? true : undefined));
  env = {
    ...process.env,
    HOME: home,
    NODE_EXTRA_CA_CERTS: join(home, "ca.pem"),
    npm_config_update_notifier: "false",
  };
}, 120_000);

afterAll(() => {
  try {
    const pid = Number(readFileSync(join(home, ".ironclaw", "gateway.lock"), "utf8").trim());
    if (Number.isSafeInteger(pid) && pid > 0) process.kill(pid, "SIGTERM");
  } catch {
    // No `up` left running.
  }
  server?.kill("SIGTERM");
  ns?.close();
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!runnable)("README: an AI agent with no credentials, pasted line by line", () => {
  it("holds what the agent asks for, then it fetches example.com and answers, every line verbatim", async () => {
    const choke = block("### The choke point");
    const demo = block("### An AI agent, with no credentials");
    expect(choke[0]).toBe("npx --no-install ironclaw up --dev &");
    for (const line of choke) {
      const { status, out } = paste(line);
      expect(status, `${line}\n${out}`).toBe(0);
    }
    await until("the agent to report in", () =>
      ironclaw("agents", "messages", "demo").includes("agent:demo: ready") ? true : undefined,
    );

    const digestOf = (line: string | undefined) => /--digest (sha256:[0-9a-f]{64})/.exec(line ?? "")?.[1];
    const submitted = paste(demo[0] as string);
    expect(submitted.status, submitted.out).toBe(0);
    expect(submitted.out).toContain("HELD  c2  model for agent demo");
    expect(submitted.out, "the README's digest for c2").toContain(`digest        ${digestOf(demo[1])}`);
    for (const line of demo.slice(1, 3)) {
      const { status, out } = paste(line);
      expect(status, `${line}\n${out}`).toBe(0);
    }
    // The human waits for the agent's requests; the test waits the same way.
    await until("the agent's two requests", () => {
      const held = JSON.parse(ironclaw("changes", "list", "--status", "held", "--json")) as {
        changes: unknown[];
      };
      return held.changes.length === 2 ? true : undefined;
    });
    const listed = paste(demo[3] as string);
    expect(listed.status, listed.out).toBe(0);
    expect(listed.out).toMatch(/^c3\tHELD\tenabled_tools\tdemo\tagent:demo\t/m);
    expect(listed.out).toMatch(/^c4\tHELD\tegress\tdemo\tagent:demo\t/m);
    expect(listed.out, "the README's digest for c3").toContain(digestOf(demo[4]) as string);
    expect(listed.out, "the README's digest for c4").toContain(digestOf(demo[5]) as string);
    expect(served.filter((line) => line.startsWith("GET"))).toEqual([]);

    for (const line of demo.slice(4, 6)) {
      const { status, out } = paste(line);
      expect(status, `${line}\n${out}`).toBe(0);
    }
    await until("the agent's answer", () =>
      ironclaw("agents", "messages", "demo").includes("The tool said:") ? true : undefined,
    );
    const answer = paste(demo[6] as string);
    expect(answer.status, answer.out).toBe(0);
    expect(answer.out).toContain("agent:demo: asked for c3, c4: HELD for approval");
    expect(answer.out).toContain(
      "agent:demo: The tool said: 200 <!doctype html><title>Example Domain</title>",
    );
    await until("example.com's log of the fetch", () => (served.includes("GET /") ? true : undefined));
    expect(served.filter((line) => line.startsWith("GET"))).toEqual(["GET /"]);

    const audit = {
      records: ironclaw("audit", "--json")
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    };
    const calls = audit.records.filter((r) => r.type === "model.call");
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const call of calls) expect(call).toMatchObject({ agent: "demo", provider: "mock", status: 200 });
    expect(audit.records.filter((r) => r.type === "egress.request")).toEqual([
      expect.objectContaining({ host: "example.com", port: 443, decision: "allowed", status: 200 }),
    ]);
  }, 240_000);
});
