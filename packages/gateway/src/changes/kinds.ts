import { z } from "zod";

/** Every kind of mutation the gateway holds for a human; nothing else can change the registry. */
export const CHANGE_KINDS = [
  "persona",
  "enabled_tools",
  "packages",
  "wiring",
  "permissions",
  "mounts",
  "create_agent",
  "egress",
  "mcp_servers",
  "skills",
] as const;

export type ChangeKind = (typeof CHANGE_KINDS)[number];

export const AGENT_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const agentName = z
  .string()
  .regex(AGENT_NAME, "an agent name: a-z, 0-9 and '-', starting with a letter, ≤ 32");
const shortText = (max: number) =>
  z
    .string()
    .max(max)
    // No control characters: they hide text from the human who approves it.
    .regex(
      /^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]*$/u,
      "no control characters",
    );
const uniqueBy =
  <T>(key: (item: T) => string, what: string) =>
  (items: readonly T[], context: z.RefinementCtx) => {
    const seen = new Set<string>();
    for (const item of items) {
      const k = key(item);
      if (seen.has(k))
        context.addIssue({ code: "custom", message: `${what} ${JSON.stringify(k)} is listed twice` });
      seen.add(k);
    }
  };

const persona = z.strictObject({
  name: shortText(64).min(1),
  instructions: shortText(16_384),
});

/** Tool names only; whether the tool exists in the compiled-in set is a verifier's job. */
const toolName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, "a tool name: a-z, 0-9 and '_'");

// npm's package-name rules: lower case, optional scope, no leading dot or underscore.
export const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
// An exact version: no ranges, tags or URLs, so what is approved is what is installed.
export const EXACT_VERSION =
  /^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const packageSpec = z.strictObject({
  name: z.string().max(214),
  version: z.string().max(64),
});

export const PERMISSION_GRANTS = [
  "workspace.read",
  "workspace.write",
  "messages.read",
  "messages.send",
  "changes.request",
] as const;

const mount = z.strictObject({
  /** Relative to the configured mounts root. */
  source: z.string().min(1).max(1024),
  /** Where the sandbox sees it. */
  target: z.string().min(1).max(256),
  readOnly: z.boolean(),
});

const egressHost = z.string().min(1).max(253);
const port = z.number().int().min(1).max(65_535);

const mcpServer = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/),
  url: z.string().max(2048),
});

const skill = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/),
  description: shortText(512),
  instructions: shortText(16_384),
});

/** One strict schema per kind: unknown fields are refused, every size is bounded. */
export const PAYLOAD_SCHEMAS = {
  persona: z.strictObject({ agent: agentName, persona }),
  enabled_tools: z.strictObject({
    agent: agentName,
    tools: z
      .array(toolName)
      .max(64)
      .superRefine(uniqueBy((t) => t, "tool")),
  }),
  packages: z.strictObject({
    agent: agentName,
    packages: z
      .array(packageSpec)
      .max(64)
      .superRefine(uniqueBy((p) => p.name, "package")),
  }),
  wiring: z.strictObject({
    agent: agentName,
    /** The agents this one may send messages to. */
    peers: z
      .array(agentName)
      .max(32)
      .superRefine(uniqueBy((p) => p, "peer")),
  }),
  permissions: z.strictObject({
    agent: agentName,
    grants: z
      .array(z.enum(PERMISSION_GRANTS))
      .max(PERMISSION_GRANTS.length)
      .superRefine(uniqueBy((g) => g, "grant")),
  }),
  mounts: z.strictObject({
    agent: agentName,
    mounts: z
      .array(mount)
      .max(16)
      .superRefine(uniqueBy((m) => m.target, "mount target")),
  }),
  create_agent: z.strictObject({ agent: agentName, persona: persona.optional() }),
  egress: z.strictObject({
    agent: agentName,
    /** One host per change: outbound access opens host by host. */
    action: z.enum(["allow", "revoke"]),
    host: egressHost,
    port,
    /** An IP literal is refused unless the change says, in so many words, that it is one. */
    ipLiteral: z.literal(true).optional(),
  }),
  mcp_servers: z.strictObject({
    agent: agentName,
    servers: z
      .array(mcpServer)
      .max(16)
      .superRefine(uniqueBy((s) => s.name, "server")),
  }),
  skills: z.strictObject({
    agent: agentName,
    skills: z
      .array(skill)
      .max(32)
      .superRefine(uniqueBy((s) => s.name, "skill")),
  }),
} as const satisfies Record<ChangeKind, z.ZodType>;

export type PayloadOf<K extends ChangeKind> = z.infer<(typeof PAYLOAD_SCHEMAS)[K]>;
export type AnyPayload = { [K in ChangeKind]: PayloadOf<K> }[ChangeKind];

/** A request as a client sends it: the kind and its payload, nothing the server decides. */
export const SUBMISSION_SCHEMA = z.strictObject({
  kind: z.enum(CHANGE_KINDS),
  payload: z.record(z.string(), z.unknown()),
});

export function isChangeKind(value: unknown): value is ChangeKind {
  return typeof value === "string" && (CHANGE_KINDS as readonly string[]).includes(value);
}
