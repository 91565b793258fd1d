import { type ChangeKind, DEFAULT_GRANTS, type McpServerApproval, type PayloadOf } from "./changes/kinds.js";
import type { JsonValue } from "./json.js";

/**
 * The registry is derived, never written: the only way to a new registry is `foldRegistry` over a
 * `change.applied` record, and every object it hands out is frozen.
 */
export interface AgentRecord {
  readonly name: string;
  readonly createdBy: string;
  readonly persona: { readonly name: string; readonly instructions: string } | null;
  readonly tools: readonly string[];
  readonly packages: readonly AgentPackage[];
  readonly peers: readonly string[];
  readonly grants: readonly string[];
  readonly mounts: readonly {
    readonly source: string;
    readonly target: string;
    readonly readOnly: boolean;
  }[];
  readonly egress: readonly { readonly host: string; readonly port: number }[];
  /** As approved: transport, and each tool pinned by its digest; the MCP broker reads it at each call. */
  readonly mcpServers: readonly McpServerApproval[];
  /** Approved skills, each pinned by the digest of its signed archive; what it says is in the skill store. */
  readonly skills: readonly {
    readonly name: string;
    readonly version: string;
    readonly digest: string;
    readonly source: string;
    readonly signer:
      | { readonly issuer: string; readonly identity: string }
      | { readonly repository: string; readonly workflow?: string };
  }[];
  /** The model the agent may call through the model proxy; null until a `model` change is approved. */
  readonly model: ModelApproval | null;
}

export interface ModelApproval {
  readonly provider: string;
  readonly model: string;
  readonly maxOutputTokens: number;
  readonly dailyTokens: number;
}

/** An approved npm package: the store holds it under its integrity (see @ironclaw/package-store). */
export interface AgentPackage {
  readonly name: string;
  readonly version: string;
  /** Null for a package approved before packages were pinned by integrity: it cannot be run. */
  readonly integrity: string | null;
  /** github.com/<owner>/<name>, the repository its provenance names; null as integrity. */
  readonly repository: string | null;
  /** Present when the change approved it without provenance; shaped as the payload, so a diff shows only changes. */
  readonly allowUnattested?: true;
}

export interface Registry {
  /**
   * Agents by name, in creation order. A null-prototype object, so a name such as `constructor` is
   * just a name; read it with `agentNamed`, never by indexing, which would also see inherited keys.
   */
  readonly agents: { readonly [name: string]: AgentRecord };
}

/** The agent of that name, or undefined: own keys only, whatever the name. */
export function agentNamed(registry: Registry, name: string): AgentRecord | undefined {
  return Object.hasOwn(registry.agents, name) ? registry.agents[name] : undefined;
}

/** A null-prototype copy of `agents` with `agent` set under its name. */
function withAgent(agents: Registry["agents"], agent: AgentRecord): { readonly [name: string]: AgentRecord } {
  const next: { [name: string]: AgentRecord } = Object.create(null);
  for (const name of Object.keys(agents)) next[name] = agents[name] as AgentRecord;
  // defineProperty, not assignment: the name is data even where it is `__proto__`.
  Object.defineProperty(next, agent.name, {
    value: agent,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return next;
}

/** What an applied-change record carries: enough to fold without looking anything else up. */
export interface AppliedChange {
  readonly type: "change.applied";
  readonly id: string;
  readonly kind: ChangeKind;
  readonly payload: JsonValue;
}

type Field = keyof Omit<AgentRecord, "name" | "createdBy">;

/**
 * Each kind may write exactly the fields listed for it, enforced by the types: a `persona` change has
 * no way to touch `egress`.
 */
const FIELDS_BY_KIND = {
  persona: ["persona"],
  enabled_tools: ["tools"],
  packages: ["packages"],
  wiring: ["peers"],
  permissions: ["grants"],
  mounts: ["mounts"],
  create_agent: [],
  egress: ["egress"],
  mcp_servers: ["mcpServers"],
  skills: ["skills"],
  model: ["model"],
} as const satisfies Record<ChangeKind, readonly Field[]>;

type Update<K extends ChangeKind> = { readonly [F in (typeof FIELDS_BY_KIND)[K][number]]: AgentRecord[F] };

const UPDATERS: { readonly [K in ChangeKind]: (payload: PayloadOf<K>, agent: AgentRecord) => Update<K> } = {
  persona: (p) => ({ persona: { name: p.persona.name, instructions: p.persona.instructions } }),
  enabled_tools: (p) => ({ tools: [...p.tools].sort() }),
  packages: (p) => ({
    packages: p.packages.map(({ name, version, integrity, repository, allowUnattested }) => ({
      name,
      version,
      // Changes applied before integrity was required fold too: their packages cannot be run.
      integrity: integrity ?? null,
      repository: repository ?? null,
      ...(allowUnattested === true ? { allowUnattested } : {}),
    })),
  }),
  wiring: (p) => ({ peers: [...p.peers].sort() }),
  permissions: (p) => ({ grants: [...p.grants].sort() }),
  mounts: (p) => ({ mounts: p.mounts.map(({ source, target, readOnly }) => ({ source, target, readOnly })) }),
  create_agent: () => ({}),
  egress: (p, agent) => {
    const others = agent.egress.filter((e) => !(e.host === p.host && e.port === p.port));
    return { egress: p.action === "allow" ? [...others, { host: p.host, port: p.port }] : others };
  },
  mcp_servers: (p) => ({ mcpServers: p.servers.map((server) => structuredClone(server)) }),
  skills: (p) => ({
    skills: p.skills.map(({ name, version, digest, source, signer }) => ({
      name,
      version,
      digest,
      source,
      signer:
        "identity" in signer
          ? { issuer: signer.issuer, identity: signer.identity }
          : {
              repository: signer.repository,
              ...(signer.workflow === undefined ? {} : { workflow: signer.workflow }),
            },
    })),
  }),
  model: (p) => ({
    model:
      p.action === "set"
        ? {
            provider: p.provider,
            model: p.model,
            maxOutputTokens: p.maxOutputTokens,
            dailyTokens: p.dailyTokens,
          }
        : null,
  }),
};

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export const EMPTY_REGISTRY: Registry = deepFreeze({ agents: Object.create(null) });

function newAgent(name: string, createdBy: string, payload: PayloadOf<"create_agent">): AgentRecord {
  return {
    name,
    createdBy,
    persona: payload.persona
      ? { name: payload.persona.name, instructions: payload.persona.instructions }
      : null,
    tools: [],
    packages: [],
    peers: [],
    grants: [...DEFAULT_GRANTS].sort(),
    mounts: [],
    egress: [],
    mcpServers: [],
    skills: [],
    model: null,
  };
}

/**
 * The registry after one log record. Records of any other type leave it as it was; the payload of an
 * applied change was checked against its kind's schema and the verifier chain before it was approved.
 */
export function foldRegistry(
  registry: Registry,
  record: { readonly type: string; readonly [field: string]: unknown },
): Registry {
  if (record.type !== "change.applied") return registry;
  const applied = record as unknown as AppliedChange;
  const payload = applied.payload as { agent: string };
  const existing = agentNamed(registry, payload.agent);
  if (applied.kind === "create_agent") {
    if (existing !== undefined) throw new Error(`agent ${payload.agent} exists already`);
    const agent = newAgent(payload.agent, applied.id, applied.payload as PayloadOf<"create_agent">);
    return deepFreeze({ agents: withAgent(registry.agents, agent) });
  }
  if (existing === undefined) throw new Error(`change ${applied.id} names unknown agent ${payload.agent}`);
  const update = (UPDATERS[applied.kind] as (p: unknown, a: AgentRecord) => Partial<AgentRecord>)(
    applied.payload,
    existing,
  );
  const allowed = new Set<string>(FIELDS_BY_KIND[applied.kind]);
  for (const key of Object.keys(update)) {
    if (!allowed.has(key)) throw new Error(`a ${applied.kind} change may not write ${key}`);
  }
  return deepFreeze({ agents: withAgent(registry.agents, { ...existing, ...update }) });
}
