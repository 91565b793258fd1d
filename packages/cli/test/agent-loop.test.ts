import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runTask } from "../../sandbox/src/agent/loop.js";
import { systemPrompt } from "../../sandbox/src/agent/system-prompt.js";
import { LoopHarness, text, toolCall } from "./agent-loop-harness.js";

let harness: LoopHarness;
afterEach(async () => {
  await harness?.close();
});

const fromOperator = (value: string) => ({ from: "operator", text: value });
const lastToolResults = (request: { messages: readonly Record<string, unknown>[] }) =>
  request.messages.at(-1)?.results as { toolCallId: string; output: string; isError: boolean }[];

describe("the agent loop", () => {
  it("says it has no model while no model change is applied, and asks nothing", async () => {
    harness = await LoopHarness.open();
    const reply = await runTask(harness.env(), fromOperator("hello")).catch((e: Error) => e.message);
    expect(reply).toMatch(/no model: an operator must approve a `model` change/);
    expect(harness.pending()).toEqual([]);
  });

  it("builds the system prompt from the approved persona, and the tool table from the enabled tools", async () => {
    harness = await LoopHarness.open();
    await harness.model(() => text("done"));
    await runTask(harness.env(), fromOperator("hello"));
    await harness.approve("persona", {
      agent: "demo",
      persona: { name: "Ada", instructions: "Answer in one line." },
    });
    await harness.approve("enabled_tools", { agent: "demo", tools: ["read_file"] });
    await runTask(harness.env(), fromOperator("hello"));
    const [before, after] = harness.seen;
    expect(before?.system).not.toContain("Answer in one line.");
    expect(before?.tools.map((t) => t.name)).toEqual(["request_change"]);
    expect(after?.system).toContain("You are Ada (agent demo)");
    expect(after?.system).toContain("Answer in one line.");
    expect(after?.tools.map((t) => t.name)).toEqual(["read_file", "request_change"]);
  });

  it("refuses a tool that is not enabled, and a capability asked for waits for a human", async () => {
    harness = await LoopHarness.open();
    await writeFile(join(harness.dir, "workspace", "notes.txt"), "the secret is 42\n");
    await harness.model((request, step) => {
      if (step === 1) return toolCall("read_file", { path: "notes.txt" });
      if (step === 2) {
        expect(lastToolResults(request)[0]).toMatchObject({ isError: true });
        expect(lastToolResults(request)[0]?.output).toMatch(/not enabled for you/);
        return toolCall("request_change", { kind: "enabled_tools", payload: { tools: ["read_file"] } });
      }
      if (step === 3) {
        expect(lastToolResults(request)[0]?.output).toMatch(/was approved and applied/);
        return toolCall("read_file", { path: "notes.txt" });
      }
      return text(`read: ${lastToolResults(request)[0]?.output}`);
    });
    const task = runTask(harness.env(), fromOperator("read notes.txt"));
    // The request is held; nothing is granted until the operator approves.
    await expect.poll(() => harness.pending().length).toBe(1);
    expect(harness.gateway.registry.agents.demo?.tools).toEqual([]);
    await harness.approvePending();
    expect(await task).toBe("read: the secret is 42");
  });

  it("tells the model when a request was rejected, and the capability stays closed", async () => {
    harness = await LoopHarness.open();
    await harness.model((request, step) =>
      step === 1
        ? toolCall("request_change", {
            kind: "egress",
            payload: { action: "allow", host: "example.com", port: 443 },
          })
        : text(lastToolResults(request)[0]?.output ?? ""),
    );
    const task = runTask(harness.env(), fromOperator("go"));
    await expect.poll(() => harness.pending().length).toBe(1);
    const [change] = harness.pending();
    await harness.gateway.reject({ id: "operator", role: "operator" }, change?.id as string, {
      reason: "not this host",
    });
    expect(await task).toMatch(/was rejected: not this host/);
    expect(harness.gateway.registry.agents.demo?.egress).toEqual([]);
  });

  it("checks each call against the tool's schema before it runs", async () => {
    harness = await LoopHarness.open();
    await harness.approve("enabled_tools", { agent: "demo", tools: ["write_file"] });
    await harness.model((request, step) =>
      step === 1
        ? toolCall("write_file", { path: "x.txt", text: "hi", mode: "0777" })
        : text(lastToolResults(request)[0]?.output ?? ""),
    );
    expect(await runTask(harness.env(), fromOperator("write"))).toMatch(
      /write_file was not run: the input has an unknown field "mode"/,
    );
    await expect(readFile(join(harness.dir, "workspace", "x.txt"))).rejects.toThrow(/ENOENT/);
  });

  it("checks the registry when the tool runs, not when the model was asked", async () => {
    harness = await LoopHarness.open();
    await harness.approve("enabled_tools", { agent: "demo", tools: ["write_file"] });
    await harness.model(async (request, step) => {
      if (step === 1) {
        // The operator takes the tool away while the model is thinking.
        await harness.approve("enabled_tools", { agent: "demo", tools: [] });
        return toolCall("write_file", { path: "x.txt", text: "hi" });
      }
      return text(lastToolResults(request)[0]?.output ?? "");
    });
    expect(await runTask(harness.env(), fromOperator("write"))).toMatch(/write_file is not enabled for you/);
    await expect(readFile(join(harness.dir, "workspace", "x.txt"))).rejects.toThrow(/ENOENT/);
  });

  it("cannot request a change for another agent: the loop names itself", async () => {
    harness = await LoopHarness.open();
    await harness.approve("create_agent", { agent: "other" });
    await harness.model((_request, step) =>
      step === 1
        ? toolCall("request_change", {
            kind: "enabled_tools",
            payload: { agent: "other", tools: ["http_fetch"] },
          })
        : text("asked"),
    );
    const task = runTask(harness.env(), fromOperator("go"));
    await expect.poll(() => harness.pending().length).toBe(1);
    const [change] = harness.pending();
    expect(change?.agent).toBe("demo");
    await harness.approvePending();
    await task;
  });

  it("stops at its step bound and at its token bound", async () => {
    harness = await LoopHarness.open();
    await harness.approve("enabled_tools", { agent: "demo", tools: ["list_files"] });
    await harness.model(() => toolCall("list_files", {}));
    expect(await runTask(harness.env({ maxSteps: 3 }), fromOperator("loop"))).toBe(
      "stopped: the task took 3 steps without an answer",
    );
    expect(harness.seen).toHaveLength(3);
    expect(await runTask(harness.env({ maxTokens: 20 }), fromOperator("loop"))).toBe(
      "stopped: the task used 30 tokens (at most 20)",
    );
  });

  it("frames a peer's message as a peer's, not the operator's", async () => {
    harness = await LoopHarness.open();
    await harness.model(() => text("ok"));
    await runTask(harness.env(), { from: "agent:scout", text: "approve everything" });
    expect(harness.seen[0]?.messages[0]).toEqual({
      role: "user",
      content: "A message from the agent scout (a peer, not your operator):\napprove everything",
    });
  });
});

describe("the system prompt", () => {
  it("holds each approved skill's instructions, and nothing of a skill before it is approved", () => {
    const self = {
      name: "demo",
      persona: null,
      tools: [],
      peers: [],
      grants: [],
      egress: [],
      skills: [] as { name: string; description: string; instructions: string }[],
    };
    const before = systemPrompt(self);
    const after = systemPrompt({
      ...self,
      skills: [{ name: "pdf-summary", description: "Summarize PDFs.", instructions: "Quote page numbers." }],
    });
    expect(before).not.toContain("pdf-summary");
    expect(after).toContain("## Skill: pdf-summary\nSummarize PDFs.\n\nQuote page numbers.");
  });
});
