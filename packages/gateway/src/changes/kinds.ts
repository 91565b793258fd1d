import { en } from "zod/locales";
import * as z from "zod/mini";
import { hiddenCharacter, VISIBLE_TEXT_MESSAGE } from "./text.js";

// zod/mini keeps the CLI bundle small (zod's classic API is half a megabyte); English messages for people.
z.config(en());

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
  "model",
] as const;

export type ChangeKind = (typeof CHANGE_KINDS)[number];

export const AGENT_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const agentName = z
  .string()
  .check(z.regex(AGENT_NAME, "an agent name: a-z, 0-9 and '-', starting with a letter, ≤ 32"));
/** A string of at most `max` characters, all of them visible (see text.ts): every text field is one. */
export const shortText = (max: number, min = 0) =>
  z.string().check(
    z.minLength(min),
    z.maxLength(max),
    z.refine((text) => hiddenCharacter(text) === undefined, VISIBLE_TEXT_MESSAGE),
  );
/** At most `max` items, no two with the same key. */
const distinctList = <T extends z.ZodMiniType>(
  item: T,
  max: number,
  key: (item: z.infer<T>) => string,
  what: string,
) =>
  z.array(item).check(
    z.maxLength(max),
    z.refine<z.infer<T>[]>(
      (items) => new Set(items.map(key)).size === items.length,
      `a ${what} is listed twice`,
    ),
  );

const persona = z.strictObject({
  name: shortText(64, 1),
  instructions: shortText(16_384),
});

/** Tool names only; whether the tool exists in the compiled-in set is a verifier's job. */
const toolName = z.string().check(z.regex(/^[a-z][a-z0-9_]{0,63}$/, "a tool name: a-z, 0-9 and '_'"));

// npm's package-name rules: lower case, optional scope, no leading dot or underscore.
export const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
// An exact version: no ranges, tags or URLs, so what is approved is what is installed.
export const EXACT_VERSION =
  /^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
/** npm's dist.integrity of SHA-512: 64 bytes in standard base64, 86 characters and `==`. */
export const SHA512_INTEGRITY = /^sha512-[A-Za-z0-9+/]{86}==$/;
/** The repository the package's provenance must name: github.com/<owner>/<name>. */
export const GITHUB_REPOSITORY =
  /^github\.com\/[A-Za-z0-9][A-Za-z0-9-]{0,38}\/(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;
// Name and version are checked by the package_form verifier, so a bad one is a recorded refusal.
const packageSpec = z.strictObject({
  name: shortText(214),
  version: shortText(64),
  integrity: z.string().check(z.regex(SHA512_INTEGRITY, "sha512-<base64>, as npm's dist.integrity")),
  repository: z.string().check(z.regex(GITHUB_REPOSITORY, "github.com/<owner>/<name>")),
  /** A package without npm provenance is refused unless the change says so in so many words. */
  allowUnattested: z.optional(z.literal(true)),
});

export const PERMISSION_GRANTS = [
  "workspace.read",
  "workspace.write",
  "messages.read",
  "messages.send",
  "changes.request",
] as const;

export type PermissionGrant = (typeof PERMISSION_GRANTS)[number];

/**
 * What a new agent may do before any permissions change: ask for changes and use its own workspace.
 * Messages between agents need their own grants (and wiring); a permissions change replaces this list.
 */
export const DEFAULT_GRANTS: readonly PermissionGrant[] = [
  "changes.request",
  "workspace.read",
  "workspace.write",
];

const mount = z.strictObject({
  /** Relative to the configured mounts root. */
  source: shortText(1024, 1),
  /** Where the sandbox sees it. */
  target: shortText(256, 1),
  readOnly: z.boolean(),
});

const egressHost = shortText(253, 1);
const port = z.int().check(z.minimum(1), z.maximum(65_535));

/**
 * An MCP server's name: no "__" and no trailing "_", so `mcp__<server>__<tool>` splits one way only.
 * A tool's name: what model APIs accept in a tool name; the whole `mcp__…` name is at most 64.
 */
export const MCP_SERVER_NAME = /^[a-z](?:[a-z0-9-]|_(?=[a-z0-9-])){0,31}$/;
export const MCP_TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const MCP_TOOL_DIGEST = /^sha256:[0-9a-f]{64}$/;
const MCP_FULL_NAME_MAX = 64;
// "<npm name>@<exact version>": the package a `packages` change approved for this agent.
const MCP_PACKAGE = /^((?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*)@(.+)$/;

const mcpTool = z.strictObject({
  name: z.string().check(z.regex(MCP_TOOL_NAME, "an MCP tool name: A-Z, a-z, 0-9, '_' and '-', ≤ 64")),
  /** SHA-256 of the tool's canonical {name, description, inputSchema} (see @ironclaw/mcp-broker). */
  digest: z.string().check(z.regex(MCP_TOOL_DIGEST, "a tool digest: sha256: and 64 lower-case hex digits")),
});

const mcpTransport = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("http"),
    url: shortText(2048, 1),
    /** An IP literal host is refused unless the change says, in so many words, that it is one. */
    ipLiteral: z.optional(z.literal(true)),
  }),
  z.strictObject({
    type: z.literal("stdio"),
    package: z.string().check(
      z.maxLength(280),
      z.refine((text) => {
        const match = MCP_PACKAGE.exec(text);
        return match !== null && PACKAGE_NAME.test(match[1] ?? "") && EXACT_VERSION.test(match[2] ?? "");
      }, "a package as <npm name>@<exact version>"),
    ),
    /** A name in the package's `bin`. */
    command: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a bin name of the package")),
    args: z.optional(z.array(shortText(1024)).check(z.maxLength(32))),
    /** The server's own sandbox has no network unless this says so (see the MCP broker's README). */
    network: z.optional(z.literal(true)),
  }),
]);

const mcpServer = z
  .strictObject({
    name: z
      .string()
      .check(z.regex(MCP_SERVER_NAME, "an MCP server name: a-z, 0-9, '-' and single '_' inside, ≤ 32")),
    transport: mcpTransport,
    tools: z.array(mcpTool).check(
      z.maxLength(64),
      z.refine<{ name: string }[]>(
        (tools) => new Set(tools.map((t) => t.name)).size === tools.length,
        "a tool is listed twice",
      ),
    ),
  })
  .check(
    z.refine(
      (server) => server.tools.every((t) => `mcp__${server.name}__${t.name}`.length <= MCP_FULL_NAME_MAX),
      `a tool's full name mcp__<server>__<tool> must be at most ${MCP_FULL_NAME_MAX} characters`,
    ),
  );

/** One approved MCP server as the registry holds it. */
export type McpServerApproval = z.infer<typeof mcpServer>;

/**
 * Who must have signed a skill: an exact certificate identity and OIDC issuer, or a GitHub repository
 * and optionally the workflow in it (then the issuer is GitHub Actions').
 */
const skillSigner = z.union([
  z.strictObject({ issuer: shortText(512, 1), identity: shortText(1024, 1) }),
  z.strictObject({
    repository: z.string().check(z.regex(/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/, "owner/repository")),
    workflow: z.optional(
      z
        .string()
        .check(
          z.regex(/^\.github\/workflows\/[A-Za-z0-9._-]{1,100}\.ya?ml$/, ".github/workflows/<file>.yml"),
        ),
    ),
  }),
]);

/** A signed skill archive; what it says (description, instructions, tools) is read from it, verified. */
const skill = z.strictObject({
  name: z
    .string()
    .check(z.regex(/^[a-z][a-z0-9_-]{0,63}$/, "a skill name: a-z, 0-9, '_' and '-', starting with a letter")),
  /** The archive, relative to the configured skills root; its bundle is `<source>.sigstore.json`. */
  source: shortText(1024, 1),
  version: z.string().check(z.regex(EXACT_VERSION, "an exact version such as 1.2.3")),
  digest: z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/, "sha256:<64 lower-case hex digits>")),
  signer: skillSigner,
});

// The provider is a name the operator configured on the host; the model is the provider's own name for
// it (e.g. "claude-sonnet-4-5", "meta-llama/llama-3.1-8b", "llama3.1:8b"), in visible ASCII only.
export const MODEL_PROVIDER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;
const modelChange = z.discriminatedUnion("action", [
  z.strictObject({
    agent: agentName,
    action: z.literal("set"),
    provider: z
      .string()
      .check(
        z.regex(MODEL_PROVIDER_NAME, "a provider name: a-z, 0-9, '_' and '-', starting with a letter, ≤ 32"),
      ),
    model: shortText(128, 1).check(
      z.regex(
        MODEL_NAME,
        "a model name: A-Z, a-z, 0-9 and . _ : / @ -, starting with a letter or digit, ≤ 128",
      ),
    ),
    maxOutputTokens: z.int().check(z.minimum(1), z.maximum(200_000)),
    dailyTokens: z.int().check(z.minimum(1), z.maximum(1_000_000_000)),
  }),
  z.strictObject({ agent: agentName, action: z.literal("revoke") }),
]);

/** One strict schema per kind: unknown fields are refused, every size is bounded. */
export const PAYLOAD_SCHEMAS = {
  persona: z.strictObject({ agent: agentName, persona }),
  enabled_tools: z.strictObject({
    agent: agentName,
    tools: distinctList(toolName, 64, (t) => t, "tool"),
  }),
  packages: z.strictObject({
    agent: agentName,
    packages: distinctList(packageSpec, 64, (p) => p.name, "package"),
  }),
  wiring: z.strictObject({
    agent: agentName,
    /** The agents this one may send messages to. */
    peers: distinctList(agentName, 32, (p) => p, "peer"),
  }),
  permissions: z.strictObject({
    agent: agentName,
    grants: distinctList(z.enum(PERMISSION_GRANTS), PERMISSION_GRANTS.length, (g) => g, "grant"),
  }),
  mounts: z.strictObject({
    agent: agentName,
    mounts: distinctList(mount, 16, (m) => m.target, "mount target"),
  }),
  create_agent: z.strictObject({ agent: agentName, persona: z.optional(persona) }),
  egress: z.strictObject({
    agent: agentName,
    /** One host per change: outbound access opens host by host. */
    action: z.enum(["allow", "revoke"]),
    host: egressHost,
    port,
    /** An IP literal is refused unless the change says, in so many words, that it is one. */
    ipLiteral: z.optional(z.literal(true)),
  }),
  mcp_servers: z.strictObject({
    agent: agentName,
    servers: distinctList(mcpServer, 16, (s) => s.name, "server"),
  }),
  skills: z.strictObject({
    agent: agentName,
    skills: distinctList(skill, 32, (s) => s.name, "skill"),
  }),
  /** The model the agent may call through the model proxy, and its limits; or none. */
  model: modelChange,
} as const satisfies Record<ChangeKind, z.ZodMiniType>;

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
