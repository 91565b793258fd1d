import { createHash } from "node:crypto";
import { chmod, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addAgentPrincipal, ensurePrincipals, generateToken } from "../../src/api/principals.js";
import { codeOf, temporaryDirectories } from "./helpers.js";

const newDir = temporaryDirectories();
const TOKEN = /^ic_(operator|viewer|agent)_[A-Za-z0-9_-]{43}$/;
const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
const readToken = async (dir: string, id: string) =>
  (await readFile(join(dir, "tokens", `${id}.token`), "utf8")).trim();
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

const HASH_A = "a".repeat(64);
const HASH_B = "b".repeat(64);

async function writeStoreFile(dir: string, content: string, mode = 0o600): Promise<string> {
  const path = join(dir, "principals.json");
  await writeFile(path, content, { mode });
  await chmod(path, mode);
  return path;
}

describe("generateToken", () => {
  it("is ic_<role>_ and 43 base64url characters, different every time", () => {
    const tokens = new Set(Array.from({ length: 50 }, () => generateToken("agent")));
    expect(tokens.size).toBe(50);
    for (const token of tokens) expect(token).toMatch(/^ic_agent_[A-Za-z0-9_-]{43}$/);
  });
});

describe("ensurePrincipals", () => {
  it("creates operator and viewer with private token files and a store of hashes only", async () => {
    const dir = await newDir();
    const store = await ensurePrincipals(dir);
    expect(store.principals).toEqual([
      { id: "operator", role: "operator" },
      { id: "viewer", role: "viewer" },
    ]);
    expect(await modeOf(join(dir, "principals.json"))).toBe(0o600);
    expect(await modeOf(join(dir, "tokens"))).toBe(0o700);
    expect((await readdir(join(dir, "tokens"))).sort()).toEqual(["operator.token", "viewer.token"]);
    const stored = await readFile(join(dir, "principals.json"), "utf8");
    for (const id of ["operator", "viewer"]) {
      const file = join(dir, "tokens", `${id}.token`);
      expect(await modeOf(file)).toBe(0o600);
      const content = await readFile(file, "utf8");
      expect(content).toMatch(/^ic_[a-z]+_[A-Za-z0-9_-]{43}\n$/);
      const token = content.trim();
      expect(token).toMatch(TOKEN);
      expect(token.startsWith(`ic_${id}_`)).toBe(true);
      expect(stored).not.toContain(token);
      expect(stored).toContain(sha256(token));
    }
    expect(JSON.parse(stored)).toEqual({
      version: 1,
      principals: [
        { id: "operator", role: "operator", tokenSha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        { id: "viewer", role: "viewer", tokenSha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      ],
    });
  });

  it("never issues new tokens on later starts", async () => {
    const dir = await newDir();
    await ensurePrincipals(dir);
    const stored = await readFile(join(dir, "principals.json"), "utf8");
    const operator = await readToken(dir, "operator");
    const again = await ensurePrincipals(dir);
    expect(await readFile(join(dir, "principals.json"), "utf8")).toBe(stored);
    expect(await readToken(dir, "operator")).toBe(operator);
    expect(again.authenticate(`Bearer ${operator}`)).toEqual({ id: "operator", role: "operator" });
  });

  it("starts even when the human has moved the token files away", async () => {
    const dir = await newDir();
    const first = await ensurePrincipals(dir);
    await writeFile(join(dir, "tokens", "operator.token"), "moved\n");
    const again = await ensurePrincipals(dir);
    expect(again.principals).toEqual(first.principals);
  });

  it.each([0o644, 0o640, 0o400, 0o700])(
    "refuses a store with mode %o and says how to fix it",
    async (mode) => {
      const dir = await newDir();
      await ensurePrincipals(dir);
      await chmod(join(dir, "principals.json"), mode);
      const error = await ensurePrincipals(dir).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "IC_STATE_INVALID" });
      expect((error as Error).message).toMatch(/expected 0600.*chmod 600/);
    },
  );

  it("refuses a store that is a symbolic link", async () => {
    const dir = await newDir();
    const other = await newDir();
    await ensurePrincipals(other);
    await symlink(join(other, "principals.json"), join(dir, "principals.json"));
    expect(await codeOf(ensurePrincipals(dir))).toBe("IC_STATE_INVALID");
  });

  const entry = (fields: Record<string, unknown>) => JSON.stringify({ version: 1, principals: [fields] });
  it.each([
    ["not JSON", "{"],
    ["a trailing comma", '{"version":1,"principals":[],}'],
    ["a duplicate key", '{"version":1,"version":1,"principals":[]}'],
    ["a top-level array", "[]"],
    ["an unknown top-level field", JSON.stringify({ version: 1, principals: [], extra: true })],
    ["another version", JSON.stringify({ version: 2, principals: [] })],
    ["a missing list", JSON.stringify({ version: 1 })],
    ["an unknown entry field", entry({ id: "operator", role: "operator", tokenSha256: HASH_A, admin: true })],
    ["an unknown role", entry({ id: "root", role: "root", tokenSha256: HASH_A })],
    ["a missing hash", entry({ id: "operator", role: "operator" })],
    ["an upper-case hash", entry({ id: "operator", role: "operator", tokenSha256: HASH_A.toUpperCase() })],
    ["a short hash", entry({ id: "operator", role: "operator", tokenSha256: "abc" })],
    ["an agent without a name", entry({ id: "agent:x", role: "agent", tokenSha256: HASH_A })],
    [
      "an agent whose id does not match",
      entry({ id: "agent:y", role: "agent", agent: "x", tokenSha256: HASH_A }),
    ],
    [
      "an operator with an agent name",
      entry({ id: "operator", role: "operator", agent: "x", tokenSha256: HASH_A }),
    ],
    [
      "an id that could collide with an agent's token file",
      entry({ id: "agent-x", role: "viewer", tokenSha256: HASH_A }),
    ],
    [
      "duplicate ids",
      JSON.stringify({
        version: 1,
        principals: [
          { id: "operator", role: "operator", tokenSha256: HASH_A },
          { id: "operator", role: "viewer", tokenSha256: HASH_B },
        ],
      }),
    ],
    [
      "a hash listed twice",
      JSON.stringify({
        version: 1,
        principals: [
          { id: "operator", role: "operator", tokenSha256: HASH_A },
          { id: "viewer", role: "viewer", tokenSha256: HASH_A },
        ],
      }),
    ],
  ])("refuses a store with %s", async (_what, content) => {
    const dir = await newDir();
    await writeStoreFile(dir, content);
    const error = await ensurePrincipals(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "IC_STATE_INVALID" });
    expect((error as Error).message).toContain(join(dir, "principals.json"));
  });

  it("refuses a store that is not UTF-8", async () => {
    const dir = await newDir();
    const path = join(dir, "principals.json");
    await writeFile(path, Buffer.from([0x7b, 0xff, 0x7d]), { mode: 0o600 });
    expect(await codeOf(ensurePrincipals(dir))).toBe("IC_STATE_INVALID");
  });

  it("loads a valid hand-written store", async () => {
    const dir = await newDir();
    const token = generateToken("operator");
    await writeStoreFile(
      dir,
      JSON.stringify({
        version: 1,
        principals: [
          { id: "operator-2", role: "operator", tokenSha256: sha256(token) },
          { id: "agent:builder", role: "agent", agent: "builder", tokenSha256: HASH_B },
        ],
      }),
    );
    const store = await ensurePrincipals(dir);
    expect(store.authenticate(`Bearer ${token}`)).toEqual({ id: "operator-2", role: "operator" });
  });
});

describe("authenticate", () => {
  it("accepts each stored token and nothing near it", async () => {
    const dir = await newDir();
    const store = await ensurePrincipals(dir);
    const operator = await readToken(dir, "operator");
    const viewer = await readToken(dir, "viewer");
    expect(store.authenticate(`Bearer ${operator}`)).toEqual({ id: "operator", role: "operator" });
    expect(store.authenticate(`Bearer ${viewer}`)).toEqual({ id: "viewer", role: "viewer" });
    // RFC 7235: the scheme is case-insensitive.
    expect(store.authenticate(`bearer ${operator}`)?.id).toBe("operator");
    expect(store.authenticate(`BEARER ${operator}`)?.id).toBe("operator");

    const flipped = `${operator.slice(0, -1)}${operator.endsWith("A") ? "B" : "A"}`;
    for (const header of [
      undefined,
      "",
      operator,
      `Bearer ${flipped}`,
      `Bearer ${operator.slice(0, -1)}`,
      `Bearer ${operator}A`,
      `Bearer ${operator.replace("ic_operator_", "ic_viewer_")}`,
      `Bearer  ${operator}`,
      `Bearer\t${operator}`,
      `Bearer${operator}`,
      `Bearer ${operator} extra`,
      `Basic ${operator}`,
      `Token ${operator}`,
      `Bearer ${operator}\u0000`,
      `Bearer ${operator.toUpperCase()}`,
    ]) {
      expect(store.authenticate(header), JSON.stringify(header)).toBeUndefined();
    }
  });
});

describe("addAgentPrincipal", () => {
  it("creates agent:<name> with a private token file, kept across starts", async () => {
    const dir = await newDir();
    const store = await ensurePrincipals(dir);
    const added = await addAgentPrincipal(store, "builder");
    expect(added.principal).toEqual({ id: "agent:builder", role: "agent", agent: "builder" });
    expect(added.tokenFile).toBe(join(dir, "tokens", "agent-builder.token"));
    expect(await modeOf(added.tokenFile)).toBe(0o600);
    expect(await modeOf(join(dir, "principals.json"))).toBe(0o600);
    const token = (await readFile(added.tokenFile, "utf8")).trim();
    expect(token).toMatch(/^ic_agent_[A-Za-z0-9_-]{43}$/);
    expect(await readFile(join(dir, "principals.json"), "utf8")).not.toContain(token);
    expect(store.authenticate(`Bearer ${token}`)).toEqual(added.principal);
    const restarted = await ensurePrincipals(dir);
    expect(restarted.authenticate(`Bearer ${token}`)).toEqual(added.principal);
    expect(restarted.principals.map((p) => p.id)).toEqual(["operator", "viewer", "agent:builder"]);
  });

  it("refuses an agent that already exists, keeping its token", async () => {
    const dir = await newDir();
    const store = await ensurePrincipals(dir);
    const { tokenFile } = await addAgentPrincipal(store, "builder");
    const token = await readFile(tokenFile, "utf8");
    const error = await addAgentPrincipal(store, "builder").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "IC_PRINCIPAL_EXISTS" });
    expect((error as Error).message).toMatch(/agent:builder already exists.*choose another/);
    expect(await readFile(tokenFile, "utf8")).toBe(token);
  });

  it("keeps agents added by another process since this one started", async () => {
    const dir = await newDir();
    const gateway = await ensurePrincipals(dir);
    const cli = await ensurePrincipals(dir);
    await addAgentPrincipal(cli, "one");
    await addAgentPrincipal(gateway, "two");
    const restarted = await ensurePrincipals(dir);
    expect(restarted.principals.map((p) => p.id)).toEqual(["operator", "viewer", "agent:one", "agent:two"]);
  });

  it("adds concurrent agents one at a time, losing none", async () => {
    const dir = await newDir();
    const store = await ensurePrincipals(dir);
    await Promise.all(["a", "b", "c"].map((name) => addAgentPrincipal(store, name)));
    expect((await ensurePrincipals(dir)).principals.map((p) => p.id).sort()).toEqual([
      "agent:a",
      "agent:b",
      "agent:c",
      "operator",
      "viewer",
    ]);
  });

  it.each(["", "Builder", "../x", "a/b", "a b", "a:b", "-x", "x".repeat(64), "é"])(
    "refuses the agent name %j",
    async (name) => {
      const store = await ensurePrincipals(await newDir());
      expect(await codeOf(addAgentPrincipal(store, name))).toBe("IC_PRINCIPAL_INVALID");
    },
  );

  it("refuses to write a token into a tokens directory others can read", async () => {
    const dir = await newDir();
    const store = await ensurePrincipals(dir);
    await chmod(join(dir, "tokens"), 0o755);
    const error = await addAgentPrincipal(store, "builder").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "IC_STATE_INVALID" });
    expect((error as Error).message).toMatch(/chmod 700/);
  });
});
