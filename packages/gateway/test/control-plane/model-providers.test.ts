import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startControlPlane } from "../../src/control-plane.js";
import { temporaryDirectories } from "../helpers.js";

/** The control plane hands its model providers to the gateway's verifier chain (issue 18). */
const newDir = temporaryDirectories();

async function submitModel(
  providers: ConstructorParameters<typeof Map<string, { models: string[] | null }>>[0],
) {
  const dir = await newDir();
  const plane = await startControlPlane({
    stateDir: dir,
    dev: true,
    listen: "127.0.0.1:0",
    ...(providers === undefined ? {} : { modelProviders: new Map(providers) }),
  });
  try {
    const token = (await readFile(join(dir, "tokens", "operator.token"), "utf8")).trim();
    const post = async (kind: string, payload: unknown) => {
      const response = await fetch(`${plane.url}/v1/changes`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ kind, payload }),
      });
      return (await response.json()) as {
        change: { id: string; digest: string };
        error?: { code: string; message: string };
      };
    };
    const created = await post("create_agent", { agent: "demo" });
    await plane.gateway.approve({ id: "operator", role: "operator" }, created.change.id, {
      digest: created.change.digest,
    });
    const model = (provider: string, name: string) =>
      post("model", {
        agent: "demo",
        action: "set",
        provider,
        model: name,
        maxOutputTokens: 10,
        dailyTokens: 10,
      });
    return {
      mock: await model("mock", "mock-1"),
      ollama: await model("ollama", "llama3.1:8b"),
      ollamaOther: await model("ollama", "qwen2"),
    };
  } finally {
    await plane.close();
  }
}

describe("the control plane's model providers", () => {
  it("are only the offline mock provider by default", async () => {
    const { mock, ollama } = await submitModel(undefined);
    expect(mock.error).toBeUndefined();
    expect(ollama.error?.message).toContain(
      "verifier model_provider refused the change: no model provider named ollama",
    );
  });

  it("are the ones it was given, each with the models it allows", async () => {
    const { mock, ollama, ollamaOther } = await submitModel([["ollama", { models: ["llama3.1:8b"] }]]);
    expect(mock.error?.message).toContain(
      "no model provider named mock is configured on the host (configured: ollama)",
    );
    expect(ollama.error).toBeUndefined();
    expect(ollamaOther.error?.message).toContain("provider ollama does not allow model qwen2");
  });
});
