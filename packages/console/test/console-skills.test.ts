import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gateway, type Principal } from "@ironclaw/gateway";
import { afterEach, describe, expect, it } from "vitest";
import {
  archiveOf,
  ISSUER,
  PUBLISHER,
  skillMd,
  useSkillWorld,
} from "../../gateway/test/skills/skill-world.js";
import { consoleView, Verdicts } from "../src/view.js";

const OPERATOR: Principal = { id: "operator", role: "operator" };
const world = useSkillWorld();
const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});
const dir = async () => {
  const path = await mkdtemp(join(tmpdir(), "ironclaw-console-skills-"));
  made.push(path);
  return path;
};

describe("the console's view of a skills change", () => {
  it("shows each skill's needed tools and which are not enabled for the agent", async () => {
    const root = await dir();
    const gateway = await Gateway.open({
      stateDir: await dir(),
      skillsRoot: root,
      skillsTrustedRoot: world.trustedRoot,
    });
    try {
      const created = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "demo" } });
      await gateway.approve(OPERATOR, created.change.id, { digest: created.change.digest });
      const digest = await world.publish(root, "s.tar.gz", archiveOf(skillMd({ tools: "[http_fetch]" })));
      const skill = {
        name: "pdf-summary",
        source: "s.tar.gz",
        version: "1.2.0",
        digest,
        signer: { issuer: ISSUER, identity: PUBLISHER.subject },
      };
      const submitted = await gateway.submit(OPERATOR, {
        kind: "skills",
        payload: { agent: "demo", skills: [skill] },
      });
      expect(submitted.change.state).toBe("pending");
      const view = await consoleView(gateway, OPERATOR, new Verdicts());
      expect(view.pending[0]).toMatchObject({
        verifiers: expect.arrayContaining(["skill_signature"]),
        skills: [{ name: "pdf-summary", tools: ["http_fetch"], missingTools: ["http_fetch"] }],
      });
    } finally {
      await gateway.close();
    }
  });
});
