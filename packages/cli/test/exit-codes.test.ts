import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

/**
 * The README's exit codes (0 ok, 1 refused, 2 usage, 3 environment) when the environment is what fails:
 * for every control-plane command, no control plane running, the port taken, no state directory (a new
 * user saw 2, usage, for all of these); for the commands that read files, a file that is not there.
 */
let state: string;
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), "ironclaw-exit-codes-"));
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  busyPort = (busy.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => busy.close(resolve));
  await rm(state, { recursive: true, force: true });
});

const DIGEST = `sha256:${"0".repeat(64)}`;
const ENVIRONMENT: readonly (readonly string[])[] = [
  ["changes", "list"],
  ["changes", "show", "c1"],
  ["changes", "submit", "create_agent", "--payload", '{"agent":"demo"}'],
  ["changes", "approve", "c1", "--digest", DIGEST],
  ["changes", "reject", "c1", "--reason", "no"],
  ["changes", "cancel", "c1"],
  ["changes", "retry", "c1"],
  ["audit"],
  ["audit", "head"],
  ["agents", "messages", "demo"],
  ["agents", "send", "demo", "hello"],
];

/** The other commands, each given a file or directory that is not there: also the environment. */
const MISSING: readonly (readonly string[])[] = [
  ["verify", "--dir", "/nonexistent-ironclaw-dir"],
  ["verify-binary", "/nonexistent-ironclaw-file", "--dir", "/nonexistent-ironclaw-dir"],
  ["checksums", "verify", "--file", "/nonexistent-ironclaw-file"],
  ["checksums", "create", "--dir", "/nonexistent-ironclaw-dir", "x"],
  [
    "verify-bundle",
    "--bundle",
    "/nonexistent-ironclaw-file",
    "--key",
    "/nonexistent-ironclaw-file",
    "/nonexistent-ironclaw-file",
  ],
  ["attestation", "inspect", "/nonexistent-ironclaw-file"],
  [
    "attestation",
    "verify",
    "/nonexistent-ironclaw-file",
    "--bundle",
    "/nonexistent-ironclaw-file",
    "--owner",
    "x",
  ],
];

describe("exit codes of the commands that read files", () => {
  it.each(MISSING)("%s … exits 3 for a file that is not there", async (...args) => {
    const result = await runCli(args, { cwd: state, env: {} });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain("IC_FILE_MISSING");
  });
});

describe("exit codes of the control-plane commands", () => {
  it.each(ENVIRONMENT)("%s %s … exits 3 when no control plane runs", async (...args) => {
    const result = await runCli([...args, "--state", state], {
      cwd: state,
      env: { IRONCLAW_WAIT_SECONDS: "0" },
    });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain("no control plane is running");
  });

  it("up exits 3 when its port is taken", async () => {
    const dir = join(state, "up");
    const result = await runCli(
      ["up", "--dev", "--no-agents", "--listen", `127.0.0.1:${busyPort}`, "--state", dir],
      {
        cwd: state,
        env: {},
      },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("IC_API_ADDRESS_IN_USE");
  });

  it("up exits 3 for a witness the gateway could rewrite, and says how to make one", async () => {
    const witness = join(state, "witness");
    await mkdir(witness);
    await writeFile(join(witness, "checkpoints.jsonl"), "");
    const result = await runCli(
      [
        "up",
        "--dev",
        "--no-agents",
        "--listen",
        "127.0.0.1:0",
        "--witness",
        witness,
        "--state",
        join(state, "up3"),
      ],
      { cwd: state, env: {} },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("IC_STATE_INVALID");
    expect(result.stderr).toContain("chattr +a");
  });

  it("up exits 2 for an address it refuses, which is usage", async () => {
    const result = await runCli(["up", "--listen", "0.0.0.0:7878", "--state", join(state, "up2")], {
      cwd: state,
      env: {},
    });
    expect(result.code).toBe(2);
  });

  it("audit verify on a missing directory says so, with exit 3", async () => {
    const missing = join(state, "nowhere");
    const result = await runCli(["audit", "verify", "--state", missing], { cwd: state, env: {} });
    expect(result.code).toBe(3);
    expect(`${result.stdout}${result.stderr}`).toContain(`there is no state directory at ${missing}`);
    expect(`${result.stdout}${result.stderr}`).not.toContain("record 0");
  });

  it("audit verify on a directory without a log says so, with exit 3", async () => {
    const result = await runCli(["audit", "verify", "--state", state], { cwd: state, env: {} });
    expect(result.code).toBe(3);
    expect(result.stdout).toContain("not a state directory `ironclaw up` has run in");
    expect(result.stdout).not.toContain("record 0");
  });

  it("a URL that is not http is usage: exit 2", async () => {
    const result = await runCli(["changes", "list", "--url", "ftp://127.0.0.1/", "--state", state], {
      cwd: state,
      env: {},
    });
    expect(result.code).toBe(2);
  });
});
