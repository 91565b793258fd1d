import type { AgentRecord } from "@ironclaw/gateway";
import type { SandboxMount, WorkspaceMode } from "@ironclaw/sandbox";

/** What of an agent's record its sandbox is built from; any change to it needs a new sandbox. */
export interface SandboxShape {
  readonly workspace: WorkspaceMode;
  readonly mounts: readonly SandboxMount[];
}

/** workspace.write: read-write; workspace.read only: read-only; neither: no workspace at all. */
export function workspaceMode(grants: readonly string[]): WorkspaceMode {
  if (grants.includes("workspace.write")) return "rw";
  if (grants.includes("workspace.read")) return "ro";
  return "none";
}

export function sandboxShape(agent: AgentRecord): SandboxShape {
  return {
    workspace: workspaceMode(agent.grants),
    mounts: agent.mounts.map(({ source, target, readOnly }) => ({ source, target, readOnly })),
  };
}

/** Equal shapes give equal keys: fields in a fixed order, mounts in the approved order. */
export function shapeKey(shape: SandboxShape): string {
  return JSON.stringify([shape.workspace, shape.mounts.map((m) => [m.source, m.target, m.readOnly])]);
}
