import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { haveSystemTools } from "../../../test/support/system-tools.js";
import { loadModelProviders, type ModelProviders } from "../src/index.js";

const KEY = "sk-ant-PLANTED-config-3a7e1c9f0b";
let state: string;

beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), "ironclaw-model-config-"));
});
afterEach(async () => {
  await rm(state, { recursive: true, force: true });
});

async function writeProviders(providers: unknown[], name = "model-providers.json"): Promise<string> {
  const path = join(state, name);
  await writeFile(path, JSON.stringify({ providers }));
  return path;
}

async function keyFile(content = `${KEY}\n`, mode = 0o600): Promise<string> {
  const path = join(state, "anthropic.key");
  await writeFile(path, content);
  await chmod(path, mode);
  return path;
}

const load = (env: Record<string, string> = {}, file?: string): Promise<ModelProviders> =>
  loadModelProviders({ stateDir: state, env, ...(file === undefined ? {} : { file }) });

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "loaded",
    (error: { code?: string }) => error.code,
  );

describe("loadModelProviders", () => {
  it("gives the built-in mock alone when the state has no providers file", async () => {
    const providers = await load();
    expect([...providers.keys()]).toEqual(["mock"]);
    expect(providers.get("mock")).toMatchObject({ type: "mock", models: null });
  });

  it("is the view the gateway's verifier reads: provider name to allowed models", async () => {
    const providers = await load();
    // The shape of VerifierContext.modelProviders in the shared design, checked by the compiler.
    const view: ReadonlyMap<string, { readonly models: readonly string[] | null }> = providers;
    expect(view.get("mock")?.models).toBeNull();
  });

  it("requires a file named with --model-providers to exist", async () => {
    expect(await codeOf(load({}, join(state, "missing.json")))).toBe("IC_MODEL_PROVIDERS_UNREADABLE");
  });

  it("loads each type, with keys from the environment or a private file", async () => {
    await writeProviders([
      { name: "anthropic", type: "anthropic", apiKeyFile: "anthropic.key", models: ["claude-haiku-4-5"] },
      {
        name: "openai",
        type: "openai",
        apiKeyEnv: "OPENAI_API_KEY",
        maxTokensField: "max_completion_tokens",
      },
      { name: "ollama", type: "openai", baseUrl: "http://127.0.0.1:11434/v1" },
      { name: "llamacpp", type: "openai", baseUrl: "http://localhost:8080/v1" },
      { name: "scripted", type: "mock", rules: [{ when: { lastUserContains: "x" }, reply: { text: "y" } }] },
    ]);
    await keyFile();
    const providers = await load({ OPENAI_API_KEY: KEY });
    expect([...providers.keys()]).toEqual(["mock", "anthropic", "openai", "ollama", "llamacpp", "scripted"]);
    expect(providers.get("anthropic")?.models).toEqual(["claude-haiku-4-5"]);
    expect(providers.get("openai")?.models).toBeNull();
    // The key is in no property, JSON form or inspection of what was loaded.
    for (const provider of providers.values()) {
      expect(JSON.stringify(provider)).not.toContain(KEY);
      expect(inspect(provider, { depth: 10, showHidden: true })).not.toContain(KEY);
    }
  });

  it("refuses what it does not know or cannot bound", async () => {
    const cases: [unknown, string][] = [
      [{ providers: [{ name: "a", type: "anthropic", apiKeyEnv: "K", region: "eu" }] }, "region"],
      [{ providers: [{ name: "a", type: "gemini" }] }, "type"],
      [{ providers: [], extra: true }, "extra"],
      [{ providers: [{ name: "Bad Name", type: "openai" }] }, "name"],
      [{ providers: [{ name: "__proto__", type: "openai" }] }, "name"],
      [{ providers: [{ name: "o", type: "openai", models: ["bad model"] }] }, "models"],
      [{ providers: [{ name: "o", type: "openai", models: [] }] }, "models"],
      [{ providers: [{ name: "m", type: "mock", apiKeyEnv: "K" }] }, "apiKeyEnv"],
      [{ providers: Array.from({ length: 33 }, (_, i) => ({ name: `p${i}`, type: "mock" })) }, "providers"],
    ];
    for (const [file, word] of cases) {
      await writeFile(join(state, "model-providers.json"), JSON.stringify(file));
      const error = await load().catch((e: Error & { code?: string }) => e);
      expect(error, word).toMatchObject({ code: "IC_MODEL_PROVIDERS_INVALID" });
      expect((error as Error).message, word).toContain(word);
    }
    await writeFile(join(state, "model-providers.json"), "{ not json");
    expect(await codeOf(load())).toBe("IC_MODEL_PROVIDERS_INVALID");
    await writeFile(
      join(state, "model-providers.json"),
      `{"providers":[],"pad":"${"x".repeat(300 * 1024)}"}`,
    );
    expect(await codeOf(load())).toBe("IC_MODEL_PROVIDERS_UNREADABLE");
  });

  it("refuses to redefine the built-in mock or to define a provider twice", async () => {
    await writeProviders([{ name: "mock", type: "mock" }]);
    expect(await load().catch((e: Error) => e.message)).toContain("built-in");
    await writeProviders([
      { name: "p", type: "mock" },
      { name: "p", type: "mock" },
    ]);
    expect(await load().catch((e: Error) => e.message)).toContain("twice");
  });

  it("takes Object.prototype names as ordinary provider names and environment names", async () => {
    await writeProviders([
      { name: "constructor", type: "openai", apiKeyEnv: "toString", baseUrl: "http://127.0.0.1:1/v1" },
    ]);
    // "toString" is not set: Object.prototype's toString is not a key.
    expect(await codeOf(load())).toBe("IC_MODEL_KEY_MISSING");
    const providers = await load({ toString: KEY });
    expect(providers.get("constructor")?.type).toBe("openai");
    expect(providers.get("hasOwnProperty")).toBeUndefined();
  });

  it("allows plain http only to this machine", async () => {
    for (const baseUrl of [
      "http://10.0.0.5:11434/v1",
      "http://example.com/v1",
      "http://127.0.0.1.nip.io/v1",
      "ftp://127.0.0.1/",
    ]) {
      await writeProviders([{ name: "o", type: "openai", baseUrl }]);
      expect(await codeOf(load()), baseUrl).toBe("IC_MODEL_PROVIDERS_INVALID");
    }
    await writeProviders([{ name: "o", type: "openai", baseUrl: `https://user:${KEY}@api.example.com/v1` }]);
    const message = await load().catch((e: Error) => e.message);
    expect(message).toContain("credentials");
    for (const baseUrl of [
      "http://[::1]:8080/v1",
      "http://127.0.0.2:8080/v1",
      "https://openrouter.ai/api/v1",
    ]) {
      await writeProviders([{ name: "o", type: "openai", baseUrl }]);
      expect(await codeOf(load()), baseUrl).toBe("loaded");
    }
  });

  it("needs a key for Anthropic, from exactly one source", async () => {
    await writeProviders([{ name: "a", type: "anthropic" }]);
    expect(await codeOf(load())).toBe("IC_MODEL_KEY_MISSING");
    await writeProviders([{ name: "a", type: "anthropic", apiKeyEnv: "ANTHROPIC_API_KEY" }]);
    expect(await codeOf(load())).toBe("IC_MODEL_KEY_MISSING");
    expect(await codeOf(load({ ANTHROPIC_API_KEY: "" }))).toBe("IC_MODEL_KEY_MISSING");
    await writeProviders([
      { name: "a", type: "anthropic", apiKeyEnv: "ANTHROPIC_API_KEY", apiKeyFile: "anthropic.key" },
    ]);
    expect(await codeOf(load({ ANTHROPIC_API_KEY: KEY }))).toBe("IC_MODEL_PROVIDERS_INVALID");
  });

  it("refuses a key with characters that could hide it, without printing the key", async () => {
    await writeProviders([{ name: "a", type: "anthropic", apiKeyEnv: "K" }]);
    const error = await load({ K: `${KEY}"\r\nX-Evil: 1` }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: "IC_MODEL_KEY_MISSING" });
    expect((error as Error).message).not.toContain(KEY);
  });
});

describe("an API key file", () => {
  beforeEach(async () => {
    await writeProviders([{ name: "a", type: "anthropic", apiKeyFile: "anthropic.key" }]);
  });

  it("is read when it is a private regular file of this user", async () => {
    await keyFile();
    expect(await codeOf(load())).toBe("loaded");
  });

  it("is refused when group or others can read it", async () => {
    for (const mode of [0o640, 0o604, 0o644]) {
      await keyFile(KEY, mode);
      const error = await load().catch((e: Error & { code?: string }) => e);
      expect(error, mode.toString(8)).toMatchObject({ code: "IC_MODEL_KEY_FILE_UNSAFE" });
      expect((error as Error).message).toContain("chmod 600");
      expect((error as Error).message).not.toContain(KEY);
    }
  });

  it("is refused when another user owns it", async () => {
    await keyFile();
    const uid = process.getuid?.() ?? 0;
    // The file stays this user's; the proxy is made to run as someone else (a test cannot chown).
    const spy = vi.spyOn(process, "getuid").mockReturnValue(uid + 1);
    try {
      const message = await load().catch((e: Error) => e.message);
      expect(message).toContain(`owned by uid ${uid}, not ${uid + 1}`);
    } finally {
      spy.mockRestore();
    }
  });

  it("is refused when it is a symbolic link, even to a good file or /dev/zero", async () => {
    const real = join(state, "real.key");
    await writeFile(real, KEY, { mode: 0o600 });
    await symlink(real, join(state, "anthropic.key"));
    expect(await codeOf(load())).toBe("IC_MODEL_KEY_FILE_UNSAFE");
    await rm(join(state, "anthropic.key"));
    await symlink("/dev/zero", join(state, "anthropic.key"));
    expect(await codeOf(load())).toBe("IC_MODEL_KEY_FILE_UNSAFE");
  });

  it("is refused when it is a directory or larger than 4 KiB", async () => {
    await keyFile("k".repeat(5000));
    expect(await load().catch((e: Error) => e.message)).toContain("5000 bytes");
    await rm(join(state, "anthropic.key"));
    execFileSync("mkdir", ["-m", "700", join(state, "anthropic.key")]);
    expect(await codeOf(load())).toBe("IC_MODEL_KEY_FILE_UNSAFE");
  });

  const haveMkfifo = haveSystemTools("model proxy FIFO attacks", ["mkfifo"]);

  it.runIf(haveMkfifo)("is refused, at once, when it is a FIFO", async () => {
    execFileSync("mkfifo", ["-m", "600", join(state, "anthropic.key")]);
    const started = Date.now();
    const error = await load().catch((e: Error & { code?: string }) => e);
    expect(error).toMatchObject({ code: "IC_MODEL_KEY_FILE_UNSAFE" });
    expect((error as Error).message).toContain("FIFO");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it.runIf(haveMkfifo)("is refused when the providers file itself is a FIFO", async () => {
    await rm(join(state, "model-providers.json"));
    execFileSync("mkfifo", [join(state, "model-providers.json")]);
    expect(await codeOf(load())).toBe("IC_MODEL_PROVIDERS_UNREADABLE");
  });
});
