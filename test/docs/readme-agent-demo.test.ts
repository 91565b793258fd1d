import { type ChildProcess, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
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
/** api.anthropic.com's, likewise: a stand-in shaped like the Messages API answers there. */
const ANTHROPIC_ADDRESS = "160.79.104.10";
/** The key the operator exports; it must never be seen anywhere but in the request to the provider. */
const PLANTED_KEY = `sk-ant-planted-${process.pid}-${Date.now().toString(36)}`;
const PAGE = "<!doctype html><title>Example Domain</title><h1>Example Domain</h1><p>For use in examples.</p>";

/** The `index`th `sh` block after a heading, exactly as a user would paste it. */
function blockText(heading: string, index = 0): string {
  const section = readme.slice(readme.indexOf(heading));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)][index]?.[1] ?? "";
}

/** The same, one command per line. */
function block(heading: string, index = 0): string[] {
  return blockText(heading, index)
    .split("\n")
    .filter((line) => line.trim() !== "");
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
  const tls = await loopbackTls({ dnsNames: ["example.com", "api.anthropic.com"] });
  writeFileSync(join(home, "ca.pem"), tls.caCert);
  writeFileSync(join(home, "leaf.key"), tls.leafKey);
  writeFileSync(join(home, "leaf.pem"), tls.leafCert);
  ns = NetNamespace.create({ "example.com": EXAMPLE_ADDRESS, "api.anthropic.com": ANTHROPIC_ADDRESS });
  // example.com, served on this machine: TLS with a certificate from a CA only this test's `up` trusts.
  server = ns.spawn(
    process.execPath,
    [
      "-e",
      `const fs = require("node:fs");
       require("node:https").createServer({ key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]) }, (req, res) => {
         if (req.headers.host !== "api.anthropic.com") {
           console.log(req.method + " " + req.url);
           return res.writeHead(200, { "content-type": "text/html" }).end(${JSON.stringify(PAGE)});
         }
         let body = "";
         req.on("data", (c) => { body += c; });
         req.on("end", () => {
           console.log("ANTHROPIC " + JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(body) }));
           res.writeHead(200, { "content-type": "application/json", "request-id": "req_test" }).end(JSON.stringify({
             id: "msg_test", type: "message", role: "assistant", model: "claude-sonnet-4-5",
             content: [{ type: "text", text: "Hello from the Messages API stand-in." }],
             stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 321, output_tokens: 9 } }));
         });
       }).listen(443, "0.0.0.0", () => console.log("listening"));`,
      join(home, "leaf.key"),
      join(home, "leaf.pem"),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let partial = "";
  server.stdout?.on("data", (chunk) => {
    const lines = (partial + String(chunk)).split("\n");
    partial = lines.pop() ?? "";
    served.push(...lines);
  });
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

  it("the same with a real provider's key: the exact request reaches the provider, the key nowhere else", async () => {
    const lock = join(home, ".ironclaw", "gateway.lock");
    process.kill(Number(readFileSync(lock, "utf8").trim()), "SIGTERM");
    await until("the first up to stop", () => (existsSync(lock) ? undefined : true));
    // The operator's shell has the key; the README's block is pasted as it is.
    const log = join(home, "block.log");
    const out = openSync(log, "w");
    const pasted = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        (ns as NetNamespace).name,
        "sh",
        "-c",
        blockText("### An AI agent, with no credentials", 1),
      ],
      {
        cwd: root,
        env: { ...env, ANTHROPIC_API_KEY: PLANTED_KEY },
        stdio: ["ignore", out, out],
        timeout: 120_000,
      },
    );
    closeSync(out);
    const printed = readFileSync(log, "utf8");
    expect(pasted.status, printed).toBe(0);
    expect(printed).toContain("APPLIED  c5  model for agent demo");
    const reply = await until("the agent's answer through the provider", () => {
      const messages = ironclaw("agents", "messages", "demo");
      return messages.includes("Hello from the Messages API stand-in.") ? messages : undefined;
    });

    await until("the stand-in's log of the request", () =>
      served.some((line) => line.startsWith("ANTHROPIC ")) ? true : undefined,
    );
    const requests = served
      .filter((line) => line.startsWith("ANTHROPIC "))
      .map(
        (line) =>
          JSON.parse(line.slice("ANTHROPIC ".length)) as {
            method: string;
            url: string;
            headers: Record<string, string>;
            body: Record<string, unknown>;
          },
      );
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe("/v1/messages");
    expect(request?.headers).toMatchObject({
      "x-api-key": PLANTED_KEY,
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
    });
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).toMatchObject({
      model: "claude-sonnet-4-5",
      max_tokens: 4096,
      messages: [{ role: "user", content: "Say hello in one line." }],
    });
    expect(String(request?.body.system)).toMatch(/^You are demo, an agent run by IronClaw\.\n/);
    expect(((request?.body.tools ?? []) as { name: string }[]).map((t) => t.name).sort()).toEqual([
      "http_fetch",
      "request_change",
    ]);

    // Everything the host wrote or printed, greped for the key: the state directory (log, registry's
    // source, tokens, checkpoints), what every command printed, the agent's messages, the audit log.
    const everything: string[] = [
      printed,
      reply,
      ironclaw("audit", "--json"),
      ironclaw("changes", "list", "--json"),
    ];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile()) everything.push(readFileSync(path, "latin1"));
      }
    };
    walk(join(home, ".ironclaw"));
    expect(everything.filter((text) => text.includes(PLANTED_KEY))).toEqual([]);
    const calls = ironclaw("audit", "--json")
      .split("\n")
      .filter((line) => line.includes('"model.call"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(calls.at(-1)).toMatchObject({
      agent: "demo",
      provider: "anthropic",
      model: "claude-sonnet-4-5",
      inputTokens: 321,
      outputTokens: 9,
      status: 200,
    });
  }, 240_000);
});
