import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ControlPlane, startControlPlane } from "@ironclaw/gateway";
import { githubWorkflowIdentity, LocalSigstore } from "@ironclaw/sigstore-local";
import { parseTrustedRoot } from "@ironclaw/verify/sigstore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const PUBLISHER = githubWorkflowIdentity({
  repository: "acme/skills",
  workflowPath: ".github/workflows/publish.yml",
  ref: "refs/heads/main",
  sha: "0123456789abcdef0123456789abcdef01234567",
});

let sigstore: LocalSigstore;
let plane: ControlPlane;
const state = mkdtempSync(join(tmpdir(), "ironclaw-skills-plane-"));
const root = mkdtempSync(join(tmpdir(), "ironclaw-skills-root-"));

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
  plane = await startControlPlane({
    stateDir: state,
    dev: true,
    listen: "127.0.0.1:0",
    skillsRoot: root,
    skillsTrustedRoot: parseTrustedRoot(
      Buffer.from(JSON.stringify(sigstore.trustedRoot)),
      "local test instance",
    ),
  });
});
afterAll(async () => {
  await plane?.close();
  await sigstore?.stop();
  rmSync(state, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli([...args, "--state", state], { cwd: root, env: {} });

describe("a skills change from the terminal", () => {
  it("packs and signs into the skills root; changes show names the tools the agent lacks; a tampered one is REJECTED", async () => {
    mkdirSync(join(root, "src"));
    writeFileSync(
      join(root, "src", "SKILL.md"),
      "---\nname: fetcher\ndescription: Fetch and summarise a page\nversion: 0.1.0\ntools: [http_fetch]\n---\nFetch the page with http_fetch and summarise it.\n",
    );
    const packed = await runCli(["skills", "pack", "src", "-o", "fetcher-0.1.0.tar.gz", "--json"], {
      cwd: root,
    });
    const { digest } = JSON.parse(packed.stdout) as { digest: string };
    const signed = await runCli(
      [
        "skills",
        "sign",
        "fetcher-0.1.0.tar.gz",
        "--fulcio-url",
        sigstore.urls.fulcio,
        "--rekor-url",
        sigstore.urls.rekor,
      ],
      { cwd: root, env: { SIGSTORE_ID_TOKEN: sigstore.identityToken(PUBLISHER) } },
    );
    expect(signed.code).toBe(0);

    const agent = await cli("changes", "submit", "create_agent", "--payload", '{"agent":"demo"}');
    const agentDigest = /--digest (sha256:[0-9a-f]{64})/.exec(agent.stdout)?.[1] as string;
    expect((await cli("changes", "approve", "c1", "--digest", agentDigest)).code).toBe(0);

    const skill = {
      name: "fetcher",
      source: "fetcher-0.1.0.tar.gz",
      version: "0.1.0",
      digest,
      signer: { repository: "acme/skills", workflow: ".github/workflows/publish.yml" },
    };
    const held = await cli(
      "changes",
      "submit",
      "skills",
      "--payload",
      JSON.stringify({ agent: "demo", skills: [skill] }),
    );
    expect(held.code).toBe(0);
    expect(held.stdout).toMatch(/^HELD {2}c2 {2}skills for agent demo/);
    const shown = await cli("changes", "show", "c2");
    expect(shown.stdout).toContain("skill         fetcher 0.1.0: Fetch and summarise a page");
    expect(shown.stdout).toContain("NOT ENABLED   http_fetch for demo");

    const tampered = await cli(
      "changes",
      "submit",
      "skills",
      "--payload",
      JSON.stringify({ agent: "demo", skills: [{ ...skill, digest: `sha256:${"1".repeat(64)}` }] }),
    );
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/^REJECTED {2}c3/);
    expect(`${tampered.stdout}${tampered.stderr}`).toContain("tampered or another archive");
  });
});
