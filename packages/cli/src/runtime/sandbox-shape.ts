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

const WORKSPACE_RANK: Readonly<Record<WorkspaceMode, number>> = { none: 0, ro: 1, rw: 2 };

/**
 * Whether `next` takes away something the sandbox built from `builtKey` (a shapeKey) has: workspace
 * access, a mount, or a mount's write access. Such a change cannot wait for an idle point that a
 * compromised or busy agent may never reach.
 */
export function narrows(builtKey: string, next: SandboxShape): boolean {
  if (builtKey === "") return false;
  const [workspace, mounts] = JSON.parse(builtKey) as [WorkspaceMode, [string, string, boolean][]];
  if (WORKSPACE_RANK[next.workspace] < WORKSPACE_RANK[workspace]) return true;
  return mounts.some(
    ([source, target, readOnly]) =>
      !next.mounts.some((m) => m.source === source && m.target === target && (readOnly || !m.readOnly)),
  );
}
