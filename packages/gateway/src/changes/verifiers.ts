import { posix } from "node:path";
import { agentNamed, type Registry } from "../registry.js";
import type { SkillsContext } from "../skills/facts.js";
import { skillSourceProblem } from "../skills/source-path.js";
import { egressHostProblem } from "./hosts.js";
import { type ChangeKind, EXACT_VERSION, PACKAGE_NAME, type PayloadOf } from "./kinds.js";

/** What the chain may know besides the change: all of it gathered at the edge, so the chain is pure. */
export interface VerifierContext {
  readonly registry: Registry;
  readonly tools: readonly string[];
  /** Changes still pending from the same requester, and the most allowed; the same for all requesters. */
  readonly pendingForRequester: number;
  readonly pendingCap: number;
  readonly pendingTotal: number;
  readonly pendingTotalCap: number;
  /** Agents with a pending create_agent change. */
  readonly pendingNewAgents: ReadonlySet<string>;
  /** The real path of the mounts root, and of each requested mount source (null: it does not exist). */
  readonly mounts: { readonly root: string | null; readonly sources: ReadonlyMap<string, string | null> };
  /** The model providers the operator configured on the host, and the models each allows (null: any). */
  readonly modelProviders: ModelProviders;
  /**
   * The package store's verdict on each package of a `packages` change, by `name@version`; a package
   * missing here was not checked (no registry is configured, or its name or version is malformed).
   */
  readonly packages: ReadonlyMap<string, PackageVerdict>;
  /** For a `skills` change: what the edge read and verified of each skill's archive and bundle. */
  readonly skills: SkillsContext;
}

/** What the package store found: fetched, integrity checked, provenance verified (or allowed absent). */
export type PackageVerdict =
  | { readonly ok: true; readonly attested: boolean }
  | { readonly ok: false; readonly code: string; readonly reason: string };

/** One package of a `packages` change, as the edge hands it to the package store. */
export type PackageRequest = PayloadOf<"packages">["packages"][number];

/** The edge's way to the package store (@ironclaw/package-store's `packageChecker`), injected. */
export interface PackageChecker {
  check(request: PackageRequest): Promise<PackageVerdict>;
}

export function packageKey(request: Pick<PackageRequest, "name" | "version">): string {
  return `${request.name}@${request.version}`;
}

export type ModelProviders = ReadonlyMap<string, { readonly models: readonly string[] | null }>;

export interface ProposedChange<K extends ChangeKind = ChangeKind> {
  readonly kind: K;
  readonly payload: PayloadOf<K>;
}

/**
 * A verifier can refuse a change or let it through to a human. There is no third outcome: no verifier,
 * and no combination of them, can approve.
 */
export type Verdict = { readonly pass: true } | { readonly pass: false; readonly reason: string };

export interface Verifier {
  readonly name: string;
  readonly appliesTo: readonly ChangeKind[] | "all";
  check(change: ProposedChange, context: VerifierContext): Verdict;
}

const PASS: Verdict = { pass: true };
const refuse = (reason: string): Verdict => ({ pass: false, reason });
const as = <K extends ChangeKind>(change: ProposedChange, _kind: K) => change.payload as PayloadOf<K>;

function mountSourceProblem(source: string): string | undefined {
  if (source.startsWith("/"))
    return `mount source ${JSON.stringify(source)} must be relative to the mounts root`;
  if (source.includes("\\") || source.includes("\0")) return "a mount source may not contain '\\' or NUL";
  if (source.split("/").some((segment) => segment === ".." || segment === "." || segment === "")) {
    return `mount source ${JSON.stringify(source)} must be a plain relative path, without '.', '..' or '//'`;
  }
  return undefined;
}

/**
 * Why one more pending change is one too many: the caps count who asked, whatever the payload names,
 * so one token cannot fill the queue (or the log) by naming many agents.
 */
export function pendingCapProblem(
  context: Pick<VerifierContext, "pendingForRequester" | "pendingCap" | "pendingTotal" | "pendingTotalCap">,
): string | undefined {
  if (context.pendingForRequester >= context.pendingCap) {
    return `${context.pendingForRequester} changes from this requester are already pending (at most ${context.pendingCap})`;
  }
  if (context.pendingTotal >= context.pendingTotalCap) {
    return `${context.pendingTotal} changes are already pending in all (at most ${context.pendingTotalCap})`;
  }
  return undefined;
}

/** Why one skill of a `skills` change must be refused, from the facts the edge gathered; undefined: none. */
function skillProblem(
  skill: PayloadOf<"skills">["skills"][number],
  skills: SkillsContext,
): string | undefined {
  const { name, version, digest, source } = skill;
  if (name in Object.prototype)
    return `skill name ${JSON.stringify(name)} is an Object.prototype property name`;
  if (skills.root === null)
    return "no skills root is configured (ironclaw up --skills-root), so no skill can be approved";
  const sourceProblem = skillSourceProblem(source);
  if (sourceProblem !== undefined) return sourceProblem;
  const facts = skills.facts.get(name);
  if (facts === undefined) return `skill ${name}: the gateway has not read ${source}`;
  if (facts.read === "failed") return `skill ${name}: ${facts.reason}`;
  if (facts.digest !== digest) {
    return `skill ${name}: tampered or another archive: ${source} has digest ${facts.digest}, the change names ${digest}`;
  }
  if (!facts.signature.verified) {
    return `skill ${name}: signature refused (${facts.signature.code}): ${facts.signature.reason}`;
  }
  if (!facts.archive.ok) return `skill ${name}: ${facts.archive.code}: ${facts.archive.reason}`;
  if (facts.archive.name !== name) {
    return `skill ${name}: its SKILL.md names it ${JSON.stringify(facts.archive.name)}`;
  }
  if (facts.archive.version !== version) {
    return `skill ${name}: its SKILL.md gives version ${facts.archive.version}, the change ${version}`;
  }
  return undefined;
}

const SKILL_VERIFIER: Verifier = {
  name: "skill_signature",
  appliesTo: ["skills"],
  check(change, { skills }) {
    for (const skill of as(change, "skills").skills) {
      const problem = skillProblem(skill, skills);
      if (problem !== undefined) return refuse(problem);
    }
    return PASS;
  },
};

export const VERIFIERS: readonly Verifier[] = [
  {
    name: "agent_reference",
    appliesTo: "all",
    check(change, { registry, pendingNewAgents }) {
      const agent = change.payload.agent;
      const exists = agentNamed(registry, agent) !== undefined;
      if (change.kind === "create_agent") {
        if (exists) return refuse(`agent ${agent} exists already`);
        if (pendingNewAgents.has(agent)) return refuse(`a change creating agent ${agent} is already pending`);
        return PASS;
      }
      return exists ? PASS : refuse(`no agent named ${agent}; create it with a create_agent change first`);
    },
  },
  {
    name: "pending_cap",
    appliesTo: "all",
    check(_change, context) {
      const problem = pendingCapProblem(context);
      return problem === undefined ? PASS : refuse(problem);
    },
  },
  {
    name: "tools_compiled_in",
    appliesTo: ["enabled_tools"],
    check(change, { tools }) {
      const unknown = as(change, "enabled_tools").tools.filter((t) => !tools.includes(t));
      return unknown.length === 0
        ? PASS
        : refuse(
            `not compiled into the agent runtime: ${unknown.join(", ")} (available: ${tools.join(", ")})`,
          );
    },
  },
  {
    name: "package_form",
    appliesTo: ["packages"],
    check(change) {
      for (const { name, version } of as(change, "packages").packages) {
        if (!PACKAGE_NAME.test(name)) return refuse(`${JSON.stringify(name)} is not an npm package name`);
        if (!EXACT_VERSION.test(version)) {
          return refuse(
            `${name}@${version}: expected an exact version such as 1.2.3, not a range, tag or URL`,
          );
        }
      }
      return PASS;
    },
  },
  {
    name: "package_provenance",
    appliesTo: ["packages"],
    check(change, { packages }) {
      for (const request of as(change, "packages").packages) {
        const label = packageKey(request);
        const verdict = packages.get(label);
        if (verdict === undefined) {
          return refuse(
            `${label} was not checked: this gateway has no package registry configured, so no package can be approved`,
          );
        }
        if (!verdict.ok) return refuse(`${label}: ${verdict.reason} (${verdict.code})`);
        if (!verdict.attested && request.allowUnattested !== true) {
          return refuse(`${label} has no npm provenance, and the change does not say allowUnattested: true`);
        }
      }
      return PASS;
    },
  },
  {
    name: "mounts_contained",
    appliesTo: ["mounts"],
    check(change, { mounts }) {
      if (mounts.root === null) return refuse("no mounts root is configured, so no mount can be approved");
      const root = mounts.root;
      for (const { source, target } of as(change, "mounts").mounts) {
        const problem = mountSourceProblem(source);
        if (problem !== undefined) return refuse(problem);
        const real = mounts.sources.get(source);
        if (real === undefined || real === null) return refuse(`mount source ${source} does not exist`);
        if (real !== root && !real.startsWith(`${root}/`)) {
          return refuse(`mount source ${source} resolves to ${real}, outside the mounts root ${root}`);
        }
        if (posix.normalize(target) !== target || !target.startsWith("/mnt/") || target.includes("..")) {
          return refuse(`mount target ${JSON.stringify(target)} must be a normalized path under /mnt/`);
        }
      }
      return PASS;
    },
  },
  {
    name: "peers_known",
    appliesTo: ["wiring"],
    check(change, { registry }) {
      const { agent, peers } = as(change, "wiring");
      for (const peer of peers) {
        if (peer === agent) return refuse("an agent cannot be wired to itself");
        if (agentNamed(registry, peer) === undefined) return refuse(`no agent named ${peer}`);
      }
      return PASS;
    },
  },
  {
    name: "egress_host",
    appliesTo: ["egress"],
    check(change, { registry }) {
      const { agent, action, host, port, ipLiteral } = as(change, "egress");
      const problem = egressHostProblem(host, ipLiteral === true);
      if (problem !== undefined) return refuse(problem);
      const listed =
        agentNamed(registry, agent)?.egress.some((e) => e.host === host && e.port === port) === true;
      if (action === "allow" && listed) return refuse(`${host}:${port} is already allowed for ${agent}`);
      if (action === "revoke" && !listed) return refuse(`${host}:${port} is not on ${agent}'s allowlist`);
      return PASS;
    },
  },
  {
    name: "mcp_server_url",
    appliesTo: ["mcp_servers"],
    check(change) {
      for (const { name, transport } of as(change, "mcp_servers").servers) {
        if (transport.type !== "http") continue;
        const { url } = transport;
        // ASCII only, so the host the approver reads is the host that is called: an IDN host is
        // written as its A-label (xn--…), which `changes show` spells out beside it.
        if (!/^[\x21-\x7e]*$/.test(url)) {
          return refuse(
            `server ${name}: write the URL in ASCII, an internationalised host as its A-label (xn--…)`,
          );
        }
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          return refuse(`server ${name}: ${JSON.stringify(url)} is not a URL`);
        }
        if (parsed.protocol !== "https:") return refuse(`server ${name}: only https URLs are allowed`);
        if (parsed.username !== "" || parsed.password !== "") {
          return refuse(`server ${name}: credentials in the URL are not allowed`);
        }
        const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
        const problem = egressHostProblem(host, transport.ipLiteral === true);
        if (problem !== undefined) return refuse(`server ${name}: ${problem}`);
      }
      return PASS;
    },
  },
  {
    name: "model_provider",
    appliesTo: ["model"],
    check(change, { registry, modelProviders }) {
      const payload = as(change, "model");
      const current = agentNamed(registry, payload.agent)?.model ?? null;
      if (payload.action === "revoke") {
        return current === null ? refuse(`agent ${payload.agent} has no approved model to revoke`) : PASS;
      }
      const { provider, model } = payload;
      // A Map, so a provider named `constructor` or `__proto__` is looked up as data, never inherited.
      const configured = modelProviders.get(provider);
      if (configured === undefined) {
        const known = [...modelProviders.keys()].sort().join(", ") || "none";
        return refuse(
          `no model provider named ${provider} is configured on the host (configured: ${known}); an operator adds providers on the host, never through a change`,
        );
      }
      if (configured.models !== null && !configured.models.includes(model)) {
        return refuse(
          `provider ${provider} does not allow model ${model} (allowed: ${configured.models.join(", ") || "none"})`,
        );
      }
      if (
        current !== null &&
        current.provider === provider &&
        current.model === model &&
        current.maxOutputTokens === payload.maxOutputTokens &&
        current.dailyTokens === payload.dailyTokens
      ) {
        return refuse(`agent ${payload.agent} already has exactly this model approved`);
      }
      return PASS;
    },
  },
  {
    name: "mcp_server_package",
    appliesTo: ["mcp_servers"],
    check(change, { registry }) {
      const { agent, servers } = as(change, "mcp_servers");
      const approved = agentNamed(registry, agent)?.packages ?? [];
      for (const { name, transport } of servers) {
        if (transport.type !== "stdio") continue;
        // Only code a `packages` change approved for this agent ever runs as its MCP server.
        if (!approved.some((p) => `${p.name}@${p.version}` === transport.package)) {
          return refuse(
            `server ${name}: the package ${transport.package} is not approved for ${agent}; approve a packages change naming it first`,
          );
        }
      }
      return PASS;
    },
  },
  SKILL_VERIFIER,
];

export interface ChainResult {
  /** The verifiers that ran and passed, in order. */
  readonly passed: readonly string[];
  readonly refusal?: { readonly verifier: string; readonly reason: string };
}

/** Runs every verifier that applies, in order; the first refusal ends the chain. Same input, same result. */
export function runVerifierChain(change: ProposedChange, context: VerifierContext): ChainResult {
  const passed: string[] = [];
  for (const verifier of VERIFIERS) {
    if (verifier.appliesTo !== "all" && !verifier.appliesTo.includes(change.kind)) continue;
    const verdict = verifier.check(change, context);
    if (!verdict.pass) return { passed, refusal: { verifier: verifier.name, reason: verdict.reason } };
    passed.push(verifier.name);
  }
  return { passed };
}
