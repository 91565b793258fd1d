import type { Change } from "../changes/change.js";
import type { JsonValue } from "../json.js";
import { type AgentRecord, agentNamed, type Registry } from "../registry.js";
import type { SkillStore } from "./store.js";

/** A skill as the agent sees it: what it is for, what to do, and which tools its instructions use. */
export interface AgentSkillView {
  readonly name: string;
  readonly description: string;
  readonly instructions: string;
  readonly tools: readonly string[];
}

/** The agent's skills, from the store by the approved digest; one the store cannot vouch for is left out. */
export async function agentSkills(store: SkillStore, record: AgentRecord): Promise<AgentSkillView[]> {
  const views: AgentSkillView[] = [];
  for (const skill of record.skills) {
    const manifest = await store.get(skill.digest);
    if (manifest === undefined) continue;
    views.push({
      name: skill.name,
      description: manifest.description,
      instructions: manifest.instructions,
      tools: manifest.tools,
    });
  }
  return views;
}

/** What the approver of a `skills` change is shown beside the payload, per skill. */
export interface SkillNote {
  readonly name: string;
  readonly version: string;
  readonly description: string | null;
  /** The tools SKILL.md says the skill needs. */
  readonly tools: readonly string[];
  /** Of those, the ones not enabled for the agent now: approving the skill does not enable them. */
  readonly missingTools: readonly string[];
}

function enabled(record: AgentRecord | undefined, tool: string): boolean {
  if (record === undefined) return false;
  if (record.tools.includes(tool)) return true;
  const mcp = /^mcp__([a-z][a-z0-9_-]*?)__/.exec(tool);
  return mcp !== null && record.mcpServers.some((server) => server.name === mcp[1]);
}

export async function skillNotes(
  store: SkillStore,
  registry: Registry,
  change: Change,
): Promise<SkillNote[] | undefined> {
  if (change.kind !== "skills") return undefined;
  const record = agentNamed(registry, change.agent);
  const skills =
    (change.payload as { skills?: { name: string; version: string; digest: string }[] }).skills ?? [];
  const notes: SkillNote[] = [];
  for (const skill of skills) {
    const manifest = await store.get(skill.digest);
    const tools = manifest?.tools ?? [];
    notes.push({
      name: skill.name,
      version: skill.version,
      description: manifest?.description ?? null,
      tools,
      missingTools: tools.filter((tool) => !enabled(record, tool)),
    });
  }
  return notes;
}

export function asJson(value: unknown): JsonValue {
  return value as JsonValue;
}
