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
const packageSpec = z.strictObject({
  name: shortText(214),
  version: shortText(64),
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
  source: shortText(1024, 1),
  /** Where the sandbox sees it. */
  target: shortText(256, 1),
  readOnly: z.boolean(),
});

const egressHost = shortText(253, 1);
const port = z.int().check(z.minimum(1), z.maximum(65_535));

const mcpServer = z.strictObject({
  name: z.string().check(z.regex(/^[a-z][a-z0-9_-]{0,63}$/)),
  url: shortText(2048),
});

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
