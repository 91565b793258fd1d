import { setTimeout as sleep } from "node:timers/promises";
import { host } from "./host-api.js";
import { enabledTools } from "./tools.js";

/**
 * The scripted agent that drives the demo and the tests: no model, just the loop a real agent runs.
 * Each inbound message is one JSON instruction, `{ "tool": "http_fetch", "input": { "url": "…" } }`.
 * When the tool it needs is not enabled, or a fetch is refused, it asks for the capability through
 * the gateway, reports that the request is held, and waits for a human to decide.
 */
interface Instruction {
  readonly tool: string;
  readonly input: Record<string, unknown>;
  /** false: try without asking for what is missing (how the tests make the broker say no). */
  readonly ask?: boolean;
}

interface AgentSelf {
  readonly name: string;
  readonly tools: readonly string[];
  readonly egress: readonly { readonly host: string; readonly port: number }[];
}

const POLL_MS = Number(process.env.IRONCLAW_AGENT_POLL_MS ?? "100");

async function self(): Promise<AgentSelf> {
  return (await host("GET", "/v1/self")).body.agent as AgentSelf;
}

async function say(text: string): Promise<void> {
  await host("POST", "/v1/messages", { text });
}

async function request(kind: string, payload: Record<string, unknown>): Promise<string | undefined> {
  const reply = await host("POST", "/v1/changes", { kind, payload });
  const change = reply.body.change as { id: string; state: string } | undefined;
  if (change === undefined) {
    await say(`could not request ${kind}: ${JSON.stringify(reply.body.error ?? reply.body)}`);
    return undefined;
  }
  await say(
    `requested ${kind} as ${change.id}: ${change.state === "pending" ? "HELD for approval" : change.state}`,
  );
  return change.state === "pending" ? change.id : undefined;
}

async function decided(ids: readonly string[]): Promise<boolean> {
  for (;;) {
    let open = false;
    for (const id of ids) {
      const { change } = (await host("GET", `/v1/changes/${id}`)).body as { change: { state: string } };
      if (change.state === "pending" || change.state === "approved") open = true;
      else if (change.state !== "applied") return false;
    }
    if (!open) return true;
    await sleep(POLL_MS);
  }
}

/** What the instruction needs that the registry does not grant yet, asked for as changes. */
async function askFor(instruction: Instruction, me: AgentSelf): Promise<string[]> {
  const asked: string[] = [];
  if (!me.tools.includes(instruction.tool)) {
    const id = await request("enabled_tools", {
      agent: me.name,
      tools: [...me.tools, instruction.tool].sort(),
    });
    if (id !== undefined) asked.push(id);
  }
  if (instruction.tool === "http_fetch") {
    const url = new URL(String(instruction.input.url));
    const port = Number(url.port || "443");
    const hostname = url.hostname.replace(/^\[|\]$/g, "");
    if (!me.egress.some((rule) => rule.host === hostname && rule.port === port)) {
      const ipLiteral = /^[0-9.]+$|:/.test(hostname);
      const payload = {
        agent: me.name,
        action: "allow",
        host: hostname,
        port,
        ...(ipLiteral ? { ipLiteral: true } : {}),
      };
      const id = await request("egress", payload);
      if (id !== undefined) asked.push(id);
    }
  }
  return asked;
}

async function perform(instruction: Instruction): Promise<void> {
  let me = await self();
  const asked = instruction.ask === false ? [] : await askFor(instruction, me);
  if (asked.length > 0 && !(await decided(asked))) {
    await say(`not done: ${instruction.tool} was not approved`);
    return;
  }
  me = await self();
  const tool = enabledTools(me.tools)[instruction.tool];
  if (tool === undefined) {
    await say(`not done: ${instruction.tool} is not enabled for me`);
    return;
  }
  try {
    const result = await tool(instruction.input);
    await say(`${instruction.tool} ${result.ok ? "ok" : "failed"}: ${result.output}`);
  } catch (error) {
    await say(`${instruction.tool} failed: ${(error as Error).message}`);
  }
}

async function main(): Promise<void> {
  let after = 0;
  await say("ready");
  for (;;) {
    const { messages } = (await host("GET", `/v1/messages?after=${after}`)).body as {
      messages: { seq: number; text: string }[];
    };
    for (const message of messages) {
      after = message.seq;
      let instruction: Instruction;
      try {
        instruction = JSON.parse(message.text) as Instruction;
      } catch {
        await say(`not an instruction: ${message.text.slice(0, 100)}`);
        continue;
      }
      await perform(instruction);
    }
    await sleep(POLL_MS);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`agent stopped: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
