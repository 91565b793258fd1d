import { stat, symlink, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { gzipDeterministic } from "@ironclaw/verify/archive";
import { writeSkillTar } from "@ironclaw/verify/skills";
import { describe, expect, it } from "vitest";
import { startAgentApi } from "../../src/agent-api/server.js";
import { gatewayRoutes } from "../../src/api/routes.js";
import { GatewayError } from "../../src/errors.js";
import { Gateway } from "../../src/gateway.js";
import { OPERATOR, temporaryDirectories } from "../helpers.js";
import { archiveOf, ISSUER, mkfifo, PUBLISHER, skillMd, useSkillWorld } from "./skill-world.js";

const newDir = temporaryDirectories();
const world = useSkillWorld();
const BY_IDENTITY = { issuer: ISSUER, identity: PUBLISHER.subject };
const SOURCE = "pdf-summary-1.2.0.tar.gz";

async function setUp(options: { skillsRoot?: string | null } = {}) {
  const stateDir = await newDir();
  const root = options.skillsRoot === undefined ? await newDir("ironclaw-skills-") : options.skillsRoot;
  const gateway = await Gateway.open({ stateDir, skillsRoot: root, skillsTrustedRoot: world.trustedRoot });
  const created = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "demo" } });
  await gateway.approve(OPERATOR, created.change.id, { digest: created.change.digest });
  const tools = await gateway.submit(OPERATOR, {
    kind: "enabled_tools",
    payload: { agent: "demo", tools: ["read_file"] },
  });
  await gateway.approve(OPERATOR, tools.change.id, { digest: tools.change.digest });
  return { gateway, root: root as string, stateDir };
}

const skillChange = (skill: Record<string, unknown>) => ({
  kind: "skills",
  payload: {
    agent: "demo",
    skills: [{ name: "pdf-summary", source: SOURCE, version: "1.2.0", signer: BY_IDENTITY, ...skill }],
  },
});

/** Submits, and demands that the verifier chain refused it, recorded in the change with `reason`. */
async function refusedBySkillVerifier(gateway: Gateway, body: unknown, reason: RegExp): Promise<void> {
  const result = await gateway.submit(OPERATOR, body);
  expect(result.refusal?.verifier).toBe("skill_signature");
  expect(result.change.state).toBe("rejected");
  expect(result.change.decidedBy).toBe("verifier:skill_signature");
  expect(result.change.reason).toMatch(reason);
  // Nobody is asked to approve it.
  expect(gateway.list(OPERATOR, { state: "pending" })).toEqual([]);
}

function getSelf(socketPath: string): Promise<{ agent: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path: "/v1/self", method: "GET" }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
    })
      .on("error", reject)
      .end();
  });
}

describe("a skills change through the gateway", () => {
  it("a signed skill goes to pending, shows the tools it needs that are not enabled, and, approved, reaches /v1/self", async () => {
    const { gateway, root, stateDir } = await setUp();
    const digest = await world.publish(root, SOURCE, archiveOf(skillMd()));
    const result = await gateway.submit(OPERATOR, skillChange({ digest }));
    expect(result.refusal).toBeUndefined();
    expect(result.change.state).toBe("pending");
    const [note] = (await gateway.skillNotes(result.change)) ?? [];
    expect(note).toEqual({
      name: "pdf-summary",
      version: "1.2.0",
      description: "Summarise the PDFs in the workspace",
      tools: ["list_files", "read_file"],
      missingTools: ["list_files"],
    });
    // What `changes show` and the console read: the same notes, beside the change, through the API.
    const shown = await gatewayRoutes(gateway)({
      method: "GET",
      path: `/v1/changes/${result.change.id}`,
      query: new URLSearchParams(),
      principal: OPERATOR,
      body: undefined,
    });
    expect(shown.body).toMatchObject({ change: { id: result.change.id, skills: [note] } });
    await gateway.approve(OPERATOR, result.change.id, { digest: result.change.digest });
    expect(gateway.registry.agents.demo?.skills).toEqual([
      { name: "pdf-summary", version: "1.2.0", digest, source: SOURCE, signer: BY_IDENTITY },
    ]);
    // The skills root may change now: the agent is served what was verified and approved, by digest.
    await writeFile(join(root, SOURCE), "replaced");
    const api = await startAgentApi({ gateway, agent: "demo", socketPath: join(stateDir, "agent.sock") });
    try {
      const self = await getSelf(api.socketPath);
      expect(self.agent.skills).toEqual([
        {
          name: "pdf-summary",
          description: "Summarise the PDFs in the workspace",
          instructions: expect.stringContaining("five lines"),
          tools: ["list_files", "read_file"],
        },
      ]);
    } finally {
      await api.close();
      await gateway.close();
    }
  });

  it("refuses an unsigned skill", async () => {
    const { gateway, root } = await setUp();
    const digest = await world.publish(root, SOURCE, archiveOf(skillMd()), { bundle: null });
    await refusedBySkillVerifier(gateway, skillChange({ digest }), /IC_SKILL_UNSIGNED.*unsigned/);
    await gateway.close();
  });

  it("refuses a tampered archive: the digest differs, or (digest updated too) the signature does not cover it", async () => {
    const { gateway, root } = await setUp();
    const original = archiveOf(skillMd());
    const digest = await world.publish(root, SOURCE, original);
    const tampered = archiveOf(skillMd({ tools: "[read_file, list_files, http_fetch]" }));
    await writeFile(join(root, SOURCE), tampered);
    await refusedBySkillVerifier(gateway, skillChange({ digest }), /tampered or another archive/);
    const { skillDigest } = await import("@ironclaw/verify/skills");
    await refusedBySkillVerifier(
      gateway,
      skillChange({ digest: skillDigest(tampered) }),
      /IC_SIGNATURE_ARTIFACT_MISMATCH/,
    );
    await gateway.close();
  });

  it("refuses a wrong signer: identity, issuer, repository, owner, workflow", async () => {
    const { gateway, root } = await setUp();
    const digest = await world.publish(root, SOURCE, archiveOf(skillMd()));
    await refusedBySkillVerifier(
      gateway,
      skillChange({
        digest,
        signer: {
          ...BY_IDENTITY,
          identity: "https://github.com/evil/skills/.github/workflows/x.yml@refs/heads/main",
        },
      }),
      /IC_POLICY_IDENTITY_MISMATCH/,
    );
    await refusedBySkillVerifier(
      gateway,
      skillChange({ digest, signer: { ...BY_IDENTITY, issuer: "https://accounts.google.com" } }),
      /IC_POLICY_ISSUER_MISMATCH/,
    );
    await refusedBySkillVerifier(
      gateway,
      skillChange({ digest, signer: { repository: "acme/skills-fork" } }),
      /IC_POLICY_REPOSITORY_MISMATCH/,
    );
    await refusedBySkillVerifier(
      gateway,
      skillChange({ digest, signer: { repository: "evil/skills" } }),
      /IC_POLICY_OWNER_MISMATCH/,
    );
    await refusedBySkillVerifier(
      gateway,
      skillChange({
        digest,
        signer: { repository: "acme/skills", workflow: ".github/workflows/release.yml" },
      }),
      /IC_POLICY_SIGNER_MISMATCH/,
    );
    // The right repository and workflow pass.
    const good = await gateway.submit(
      OPERATOR,
      skillChange({
        digest,
        signer: { repository: "acme/skills", workflow: ".github/workflows/publish.yml" },
      }),
    );
    expect(good.change.state).toBe("pending");
    await gateway.close();
  });

  it("refuses a bundle made for another artifact", async () => {
    const { gateway, root } = await setUp();
    const digest = await world.publish(root, SOURCE, archiveOf(skillMd()), {
      signed: Buffer.from("another file"),
    });
    await refusedBySkillVerifier(gateway, skillChange({ digest }), /IC_SIGNATURE_ARTIFACT_MISMATCH/);
    await gateway.close();
  });

  it("refuses a signed archive whose SKILL.md has no front matter, or disagrees on name or version, or that holds a link", async () => {
    const { gateway, root } = await setUp();
    const bare = await world.publish(root, "bare.tar.gz", archiveOf("Just do what the user says.\n"));
    await refusedBySkillVerifier(
      gateway,
      skillChange({ source: "bare.tar.gz", digest: bare }),
      /IC_SKILL_MANIFEST_INVALID.*no front matter/,
    );
    const other = await world.publish(root, "other.tar.gz", archiveOf(skillMd({ name: "pdf-summarize" })));
    await refusedBySkillVerifier(
      gateway,
      skillChange({ source: "other.tar.gz", digest: other }),
      /SKILL\.md names it "pdf-summarize"/,
    );
    // A symbolic link inside a signed archive: the signature vouches for the bytes, not for what they hold.
    const tar = writeSkillTar([
      { path: "SKILL.md", data: Buffer.from(skillMd()) },
      { path: "zero", data: Buffer.alloc(0) },
    ]);
    tar.write("2", 512 + 512 * Math.ceil(Buffer.byteLength(skillMd()) / 512) + 156, "ascii");
    const linked = await world.publish(root, "linked.tar.gz", Buffer.from(gzipDeterministic(tar)));
    await refusedBySkillVerifier(
      gateway,
      skillChange({ source: "linked.tar.gz", digest: linked }),
      /IC_SKILL_ENTRY_REFUSED.*"zero" is a symbolic link/,
    );
    const later = await world.publish(root, "later.tar.gz", archiveOf(skillMd({ version: "1.3.0" })));
    await refusedBySkillVerifier(
      gateway,
      skillChange({ source: "later.tar.gz", digest: later }),
      /gives version 1\.3\.0, the change 1\.2\.0/,
    );
    await gateway.close();
  });

  it("refuses Object.prototype names as skill names, and invisible Unicode in a name", async () => {
    const { gateway, root } = await setUp();
    const digest = await world.publish(root, "c.tar.gz", archiveOf(skillMd({ name: "constructor" })));
    await refusedBySkillVerifier(
      gateway,
      skillChange({ name: "constructor", source: "c.tar.gz", digest }),
      /Object\.prototype/,
    );
    // In SKILL.md, where only the signature vouches for it: the verifier chain says so.
    const hidden = await world.publish(root, "h.tar.gz", archiveOf(skillMd({ name: "pdf-summary\u200b" })));
    await refusedBySkillVerifier(
      gateway,
      skillChange({ source: "h.tar.gz", digest: hidden }),
      /IC_SKILL_MANIFEST_INVALID.*U\+200B/,
    );
    // In the change itself, the payload's schema refuses it before the chain, and records that it did.
    for (const name of ["__proto__", "pdf\u200bsummary"]) {
      const refused = await gateway.submit(OPERATOR, skillChange({ name, digest })).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(GatewayError);
      expect((refused as GatewayError).code).toBe("IC_CHANGE_INVALID");
      expect((refused as GatewayError).message).toContain("skills.0.name");
    }
    const records = await gateway.audit(0, 1000);
    expect(records.filter((r) => r.type === "change.refused")).toHaveLength(2);
    await gateway.close();
  });

  it("refuses a source that escapes the root through a symlink, a FIFO, a root that is gone, and a change when no root is configured", async () => {
    const { gateway, root } = await setUp();
    const outside = await newDir("ironclaw-outside-");
    const digest = await world.publish(outside, SOURCE, archiveOf(skillMd()));
    await symlink(join(outside, SOURCE), join(root, SOURCE));
    await refusedBySkillVerifier(gateway, skillChange({ digest }), /outside the skills root/);
    mkfifo(join(root, "pipe.tar.gz"));
    await refusedBySkillVerifier(
      gateway,
      skillChange({ source: "pipe.tar.gz", digest }),
      /not a regular file \(a FIFO\)/,
    );
    await refusedBySkillVerifier(
      gateway,
      skillChange({ source: "../x.tar.gz", digest }),
      /plain relative path/,
    );
    await gateway.close();
    const gone = await setUp({ skillsRoot: join(outside, "no-such-dir") });
    await refusedBySkillVerifier(
      gone.gateway,
      skillChange({ digest }),
      /the skills root .*no-such-dir cannot be read/,
    );
    await gone.gateway.close();
    const bare = await setUp({ skillsRoot: null });
    await refusedBySkillVerifier(bare.gateway, skillChange({ digest }), /no skills root is configured/);
    await bare.gateway.close();
  });
  it("serves only what the store still vouches for, and keeps one copy when two submissions race", async () => {
    const { gateway, root, stateDir } = await setUp();
    const digest = await world.publish(root, SOURCE, archiveOf(skillMd()));
    const [first, second] = await Promise.all([
      gateway.submit(OPERATOR, skillChange({ digest })),
      gateway.submit(OPERATOR, skillChange({ digest })),
    ]);
    expect([first?.change.state, second?.change.state]).toEqual(["pending", "pending"]);
    const stored = join(stateDir, "skills", `${digest.slice("sha256:".length)}.tar.gz`);
    expect((await stat(stored)).mode & 0o777).toBe(0o600);
    await gateway.approve(OPERATOR, first.change.id, { digest: first.change.digest });
    expect((await gateway.agentView("demo"))?.skills.map((s) => s.name)).toEqual(["pdf-summary"]);
    await gateway.close();
    // A fresh gateway reads the store from disk; a stored archive that no longer matches its digest is not served.
    await writeFile(stored, archiveOf(skillMd({ tools: "[http_fetch]" })));
    const reopened = await Gateway.open({ stateDir, skillsRoot: root, skillsTrustedRoot: world.trustedRoot });
    try {
      const view = await reopened.agentView("demo");
      expect(view?.skills).toEqual([]);
    } finally {
      await reopened.close();
    }
  });
});
