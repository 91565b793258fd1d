import { spawn, spawnSync } from "node:child_process";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CommandIo, run } from "@ironclaw/cli";
import { CHANGE_KINDS, type ControlPlane, sealRecord, startControlPlane } from "@ironclaw/gateway";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, runCli } from "./helpers.js";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function started(): Promise<{ plane: ControlPlane; state: string }> {
  const state = await mkdtemp(join(tmpdir(), "ironclaw-cli-plane-"));
  const plane = await startControlPlane({ stateDir: state, dev: true, listen: "127.0.0.1:0" });
  cleanup.push(async () => {
    await plane.close();
    await rm(state, { recursive: true, force: true });
  });
  return { plane, state };
}

const cli = (state: string, ...args: string[]) =>
  runCli([...args, "--state", state], { cwd: state, env: {} });

describe("ironclaw changes", () => {
  it("holds a submission, refuses a wrong digest, applies the right one and shows the trail", async () => {
    const { state } = await started();
    const held = await cli(state, "changes", "submit", "create_agent", "--payload", '{"agent":"demo"}');
    expect(held.code).toBe(0);
    expect(held.stdout).toMatch(/^HELD {2}c1 {2}create_agent for agent demo/);
    const digest = /--digest (sha256:[0-9a-f]{64})/.exec(held.stdout)?.[1] as string;

    const listed = await cli(state, "changes", "list", "--status", "pending", "--json");
    expect(JSON.parse(listed.stdout).changes.map((c: { id: string }) => c.id)).toEqual(["c1"]);
    // What the list shows (HELD) is a status it takes, and each line carries the digest to approve.
    const shown = await cli(state, "changes", "list", "--status", "held");
    expect(shown.code).toBe(0);
    expect(shown.stdout.split("\n")[0]).toBe("ID\tSTATE\tKIND\tAGENT\tREQUESTER\tSUBMITTED\tDIGEST");
    expect(shown.stdout.split("\n")[1]).toMatch(
      /^c1\tHELD\tcreate_agent\tdemo\toperator\t.*\tsha256:[0-9a-f]{64}$/,
    );

    const wrong = await cli(state, "changes", "approve", "c1", "--digest", `sha256:${"0".repeat(64)}`);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("IC_CHANGE_DIGEST_MISMATCH");

    const approved = await cli(state, "changes", "approve", "c1", "--digest", digest, "--json");
    expect(approved.code).toBe(0);
    const document = JSON.parse(approved.stdout);
    expect(document.change.state).toBe("applied");
    expect(document.audit.map((r: { type: string }) => r.type)).toEqual([
      "change.submitted",
      "change.approval_refused",
      "change.approved",
      "change.applied",
    ]);
    const again = await cli(state, "changes", "approve", "c1", "--digest", digest);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("IC_CHANGE_CONFLICT");
    const missing = await cli(state, "changes", "show", "c9");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("IC_CHANGE_NOT_FOUND");
  });

  it("submits, shows and approves a model change, names every kind in its help, and refuses an unknown provider", async () => {
    const { plane, state } = await started();
    const help = await runCli(["changes", "submit", "--help"], { cwd: state, env: {} });
    for (const kind of CHANGE_KINDS) expect(help.stdout, kind).toMatch(new RegExp(`\\b${kind}\\b`));
    const created = await cli(state, "changes", "submit", "create_agent", "--payload", '{"agent":"demo"}');
    const createDigest = /--digest (sha256:[0-9a-f]{64})/.exec(created.stdout)?.[1] as string;
    expect((await cli(state, "changes", "approve", "c1", "--digest", createDigest)).code).toBe(0);
    const payload = {
      agent: "demo",
      action: "set",
      provider: "mock",
      model: "mock-1",
      maxOutputTokens: 1024,
      dailyTokens: 100_000,
    };
    const held = await cli(state, "changes", "submit", "model", "--payload", JSON.stringify(payload));
    expect(held.code).toBe(0);
    expect(held.stdout).toMatch(/^HELD {2}c2 {2}model for agent demo/);
    const shown = await cli(state, "changes", "show", "c2");
    expect(shown.stdout).toContain('"provider": "mock"');
    const digest = /--digest (sha256:[0-9a-f]{64})/.exec(held.stdout)?.[1] as string;
    expect((await cli(state, "changes", "approve", "c2", "--digest", digest)).code).toBe(0);
    expect(plane.gateway.registry.agents.demo?.model).toEqual({
      provider: "mock",
      model: "mock-1",
      maxOutputTokens: 1024,
      dailyTokens: 100_000,
    });
    const unknown = await cli(
      state,
      "changes",
      "submit",
      "model",
      "--payload",
      JSON.stringify({ ...payload, provider: "openai" }),
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(/^REJECTED {2}c3/);
    expect(unknown.stdout).toContain(
      "verifier model_provider refused the change: no model provider named openai",
    );
  });

  it("reports a verifier's refusal with exit 1, and a malformed payload with exit 2", async () => {
    const { state } = await started();
    await cli(state, "changes", "submit", "create_agent", "--payload", '{"agent":"demo"}');
    const refused = await cli(
      state,
      "changes",
      "submit",
      "egress",
      "--payload",
      '{"agent":"demo","action":"allow","host":"*.example.com","port":443}',
    );
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^REJECTED {2}c2/);
    expect(refused.stdout).toContain("verifier agent_reference refused");
    const malformed = await cli(state, "changes", "submit", "persona", "--payload", '{"agent":"demo","x":1}');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain("IC_CHANGE_INVALID");
    const notJson = await cli(state, "changes", "submit", "persona", "--payload", "{agent:");
    expect(notJson.code).toBe(2);
  });

  it("refuses text with control or format characters, and never echoes them", async () => {
    const { state } = await started();
    await cli(state, "changes", "submit", "create_agent", "--payload", '{"agent":"demo"}');
    const rejected = await cli(state, "changes", "reject", "c1", "--reason", "no\u001b[2J\u202eevil");
    expect(rejected.code).toBe(2);
    expect(rejected.stderr).toContain("IC_CHANGE_INVALID");
    expect(rejected.stdout + rejected.stderr).not.toMatch(/[\u001b\u202e]/u);
    const shown = await cli(state, "changes", "show", "c1");
    expect(shown.stdout).toMatch(/^HELD/);
  });

  it("waits, saying so, for a control plane that is still starting", async () => {
    const state = await mkdtemp(join(tmpdir(), "ironclaw-cli-starting-"));
    cleanup.push(() => rm(state, { recursive: true, force: true }));
    // The command first, as in `ironclaw up --dev & ironclaw changes list`: it finds nothing yet.
    let stdout = "";
    let stderr = "";
    let announced: () => void = () => undefined;
    const waiting = new Promise<void>((resolve) => {
      announced = resolve;
    });
    const io: CommandIo = {
      stdin: (async function* () {})(),
      stdout: { write: (text: string) => (stdout += text), isTTY: false },
      stderr: {
        write: (text: string) => {
          stderr += text;
          if (stderr.includes("waiting up to 10 s")) announced();
          return true;
        },
        isTTY: false,
      },
      env: {},
      cwd: state,
    };
    const listing = run(["changes", "list", "--state", state], io);
    await waiting;
    const plane = await startControlPlane({ stateDir: state, dev: true, listen: "127.0.0.1:0" });
    cleanup.push(() => plane.close());
    expect(await listing).toBe(0);
    expect(stderr).toContain("waiting up to 10 s for the control plane to start");
    expect(stdout).toBe("no changes\n");
  });

  it("says where the control plane should be when nothing listens, with exit 3", async () => {
    const state = await mkdtemp(join(tmpdir(), "ironclaw-cli-none-"));
    cleanup.push(() => rm(state, { recursive: true, force: true }));
    const result = await runCli(["changes", "list", "--state", state], {
      cwd: state,
      env: { IRONCLAW_WAIT_SECONDS: "0" },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("no control plane is running");
    expect(result.stderr).toContain("ironclaw up --dev");
    const down = await runCli(
      ["changes", "list", "--url", "http://127.0.0.1:9", "--token-file", "/dev/null"],
      { cwd: state, env: { IRONCLAW_WAIT_SECONDS: "0" } },
    );
    expect(down.code).toBe(3);
    expect(down.stderr).toContain("IC_NETWORK");
  });

  it("authenticates with the token file given, and a viewer may not approve", async () => {
    const { state } = await started();
    await cli(state, "changes", "submit", "create_agent", "--payload", '{"agent":"demo"}');
    const viewer = join(state, "tokens", "viewer.token");
    const listed = await cli(state, "changes", "list", "--token-file", viewer);
    expect(listed.code).toBe(0);
    const denied = await cli(
      state,
      "changes",
      "approve",
      "c1",
      "--digest",
      `sha256:${"0".repeat(64)}`,
      "--token-file",
      viewer,
    );
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("IC_API_FORBIDDEN");
  });
});

describe("ironclaw audit", () => {
  it("prints the log, and verify names the first bad record of a tampered copy", async () => {
    const { plane, state } = await started();
    await cli(state, "changes", "submit", "create_agent", "--payload", '{"agent":"demo"}');
    const kept = await cli(state, "audit", "head", "--json");
    expect(kept.code).toBe(0);
    await writeFile(join(state, "kept.json"), kept.stdout);
    const listed = await cli(state, "audit", "--json");
    const records = listed.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { seq: number; type: string });
    expect(records.map((r) => r.type)).toEqual(["gateway.started", "principal.recorded", "change.submitted"]);
    await plane.close();

    const clean = await cli(state, "audit", "verify", "--checkpoint", join(state, "kept.json"));
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain("hash chain intact");

    const log = join(state, "events.jsonl");
    const lines = (await readFile(log, "utf8")).split("\n");
    lines[2] = (lines[2] as string).replace('"agent":"demo"', '"agent":"evil"');
    await writeFile(log, lines.join("\n"));
    const tampered = await cli(state, "audit", "verify", "--json");
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout).failure).toMatchObject({ record: 3 });
    const human = await cli(state, "audit", "verify");
    expect(human.stdout).toMatch(/^✗ record 3: IC_AUDIT_CORRUPT/);
  });

  it("verify names correctly chained records that the host key never sealed", async () => {
    const { plane, state } = await started();
    await cli(state, "changes", "submit", "create_agent", "--payload", '{"agent":"demo"}');
    await plane.close();
    const log = join(state, "events.jsonl");
    const last = JSON.parse((await readFile(log, "utf8")).trim().split("\n").at(-1) as string);
    const zero = `sha256:${"0".repeat(64)}`;
    const approved = sealRecord(
      { type: "change.approved", id: "c1", by: "mallory", digest: zero },
      last.seq + 1,
      new Date().toISOString(),
      last.hash,
    );
    const applied = sealRecord(
      { type: "change.applied", id: "c1", digest: zero },
      last.seq + 2,
      new Date().toISOString(),
      approved.record.hash,
    );
    await appendFile(log, approved.line + applied.line);
    const human = await cli(state, "audit", "verify");
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`✗ record ${last.seq + 1}: IC_AUDIT_UNSIGNED`);
    expect(human.stdout).toContain(`records ${last.seq + 1} to ${last.seq + 2} unsigned`);
  });
});

describe("ironclaw audit verify on a running control plane", () => {
  it("passes while the gateway is busy committing", async () => {
    const { plane, state } = await started();
    const operator = { id: "operator", role: "operator" } as const;
    let busy = true;
    const load = (async () => {
      for (let i = 0; busy && i < 2000; i++) {
        await plane.gateway
          .submit(operator, { kind: "create_agent", payload: { agent: `busy-${i}` } })
          .catch(() => undefined);
        if (i % 10 === 9)
          for (const change of plane.gateway.list(operator, { state: "pending" }))
            await plane.gateway.cancel(operator, change.id, {});
      }
    })();
    const verified = await cli(state, "audit", "verify");
    busy = false;
    await load;
    expect(verified.stdout).toContain("hash chain intact");
    expect(verified.code).toBe(0);
  });
});

describe("ironclaw audit --follow", () => {
  it("keeps printing records as they are written", async () => {
    const { state } = await started();
    const follower = spawn(process.execPath, [BIN, "audit", "--follow", "--state", state], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    cleanup.push(async () => {
      follower.kill("SIGTERM");
    });
    let seen = "";
    const saw = (text: string) =>
      new Promise<void>((resolve) => {
        const look = () => {
          if (seen.includes(text)) resolve();
        };
        follower.stdout.on("data", (chunk: Buffer) => {
          seen += chunk.toString();
          look();
        });
        look();
      });
    await saw("gateway.started");
    await cli(state, "changes", "submit", "create_agent", "--payload", '{"agent":"late"}');
    await saw("change.submitted");
    expect(seen).toMatch(/#3 .* change\.submitted {2}id=c1 kind=create_agent agent=late/);
  });
});

describe("ironclaw up", () => {
  it("refuses to start a second time on the same state directory", async () => {
    const { state } = await started();
    const second = spawnSync(
      process.execPath,
      [BIN, "up", "--dev", "--listen", "127.0.0.1:0", "--state", state],
      {
        encoding: "utf8",
        timeout: 20_000,
      },
    );
    expect(second.status).toBe(3);
    expect(second.stderr).toContain("IC_AUDIT_LOCKED");
    expect(second.stderr).toContain(String(process.pid));
  });

  it.each([["0.0.0.0:7878"], ["[::]:7878"], ["192.168.1.10:7878"]])(
    "refuses to listen on %s",
    async (listen) => {
      const state = await mkdtemp(join(tmpdir(), "ironclaw-cli-up-"));
      cleanup.push(() => rm(state, { recursive: true, force: true }));
      const result = spawnSync(
        process.execPath,
        [BIN, "up", "--dev", "--listen", listen, "--state", join(state, "s")],
        {
          encoding: "utf8",
          timeout: 20_000,
        },
      );
      expect(result.status).toBe(2);
      expect(result.stderr).toContain("IC_API_BIND_REFUSED");
    },
  );
});
