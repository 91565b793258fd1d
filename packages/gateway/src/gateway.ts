import { type LoadedTrustedRoot, publicGoodTrustedRoot } from "@ironclaw/verify/sigstore";
import * as z from "zod/mini";
import { type Change, type ChangeState, changeDigest } from "./changes/change.js";
import { mountFacts, packageVerdicts } from "./changes/edge.js";
import { type AgentMessage, foldsRecordType, GatewayState, LIFECYCLE_VERSION } from "./changes/fold.js";
import {
  AGENT_NAME,
  type ChangeKind,
  PAYLOAD_SCHEMAS,
  type PayloadOf,
  SUBMISSION_SCHEMA,
  shortText,
} from "./changes/kinds.js";
import { COMPILED_IN_TOOLS } from "./changes/tools.js";
import {
  type ModelProviders,
  type PackageChecker,
  pendingCapProblem,
  runVerifierChain,
  type VerifierContext,
} from "./changes/verifiers.js";
import { GatewayError } from "./errors.js";
import { peerMessageProblem, requireGrant } from "./grants.js";
import type { JsonObject, JsonValue } from "./json.js";
import {
  type Checkpoint,
  EventLog,
  type EventLogOptions,
  type LogRecord,
  type NewEvent,
  type RecoveryReport,
} from "./log/index.js";
import type { Principal } from "./principal.js";
import { type AgentRecord, agentNamed, foldRegistry, type Registry } from "./registry.js";
import { gatherSkillFacts } from "./skills/edge.js";
import type { SkillsContext } from "./skills/facts.js";
import { SkillStore } from "./skills/store.js";
import { type AgentSkillView, agentSkills, type SkillNote, skillNotes } from "./skills/views.js";

/** Side effects of applying a change, outside the registry (which the log alone decides). */
export interface ApplyEffects {
  /** Gives a newly created agent its own credentials. */
  createAgentCredentials(agent: string): Promise<void>;
}

export interface GatewayOptions {
  readonly stateDir: string;
  readonly now?: () => Date;
  /** How long a change may stay pending before it expires. Default 24 h. */
  readonly ttlMs?: number;
  /** Most pending changes per requesting principal, whatever agent they name. Default 16. */
  readonly pendingCap?: number;
  /** Most pending changes from all requesters together. Default 256. */
  readonly pendingTotalCap?: number;
  /** Mount sources must resolve under this directory; null: no mount can be approved. */
  readonly mountsRoot?: string | null;
  /** Skill archives (and their bundles) are read under this directory; null: no skill can be approved. */
  readonly skillsRoot?: string | null;
  /** The Sigstore trusted root skill signatures verify against; default the embedded public-good root. */
  readonly skillsTrustedRoot?: LoadedTrustedRoot;
  readonly tools?: readonly string[];
  /**
   * Fetches and verifies each package of a `packages` change (@ironclaw/package-store); null: no
   * registry is configured, so no package can be approved.
   */
  readonly packages?: PackageChecker | null;
  /** The model providers configured on the host and the models each allows; default: `mock`, any model. */
  readonly modelProviders?: ModelProviders;
  readonly effects?: ApplyEffects;
  readonly checkpointEvery?: number;
  /** Also append every checkpoint to this witness directory's append-only file. */
  readonly witness?: string;
  /** Test seam: how the log opens its files, to inject write failures. */
  readonly fileHandleFactory?: EventLogOptions["fileHandleFactory"];
}

export interface SubmitResult {
  readonly change: Change;
  /** Set when the verifier chain refused the change: it is recorded, and no human will see it pending. */
  readonly refusal?: { readonly verifier: string; readonly reason: string };
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Without configured providers, only the built-in offline `mock` provider exists. */
export const DEFAULT_MODEL_PROVIDERS: ModelProviders = new Map([["mock", { models: null }]]);
const APPROVAL_SCHEMA = z.strictObject({ digest: z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/)) });
const REJECTION_SCHEMA = z.strictObject({ reason: shortText(1024, 1) });
const EMPTY_SCHEMA = z.strictObject({});
const MESSAGE_SCHEMA = z.strictObject({ text: shortText(4096, 1) });
const PEER_MESSAGE_SCHEMA = z.strictObject({
  to: z.string().check(z.regex(AGENT_NAME, "an agent name: a-z, 0-9 and '-', starting with a letter, ≤ 32")),
  text: shortText(4096, 1),
});

function parseBody<T>(schema: z.ZodMiniType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
  throw new GatewayError("IC_CHANGE_INVALID", `${what}: ${issues}`);
}

function requireRole(principal: Principal, roles: readonly Principal["role"][], action: string): void {
  if (!roles.includes(principal.role)) {
    throw new GatewayError("IC_API_FORBIDDEN", `${principal.id} (${principal.role}) may not ${action}`);
  }
}

/**
 * The choke point. Every mutation is a change that waits for a human operator; its every step is a
 * log record, written before the caller hears back; the registry is what the log's applied changes
 * fold to, and nothing else.
 */
export class Gateway {
  readonly #log: EventLog;
  readonly #state: GatewayState;
  /** The registry as of the last applied change whose record is on disk: all anyone outside sees. */
  #durableRegistry: Registry;
  readonly #registryListeners = new Set<(registry: Registry) => void>();
  readonly #options: Required<
    Omit<
      GatewayOptions,
      "effects" | "checkpointEvery" | "fileHandleFactory" | "witness" | "skillsRoot" | "skillsTrustedRoot"
    >
  > & {
    effects?: ApplyEffects;
  };
  readonly recovery: RecoveryReport;
  readonly #skills: {
    readonly root: string | null;
    readonly trustedRoot: () => LoadedTrustedRoot;
    readonly store: SkillStore;
  };

  private constructor(log: EventLog, state: GatewayState, recovery: RecoveryReport, options: GatewayOptions) {
    this.#log = log;
    this.#state = state;
    this.#durableRegistry = state.registry;
    this.recovery = recovery;
    this.#options = {
      stateDir: options.stateDir,
      now: options.now ?? (() => new Date()),
      ttlMs: options.ttlMs ?? DAY_MS,
      pendingCap: options.pendingCap ?? 16,
      pendingTotalCap: options.pendingTotalCap ?? 256,
      mountsRoot: options.mountsRoot ?? null,
      tools: options.tools ?? COMPILED_IN_TOOLS,
      packages: options.packages ?? null,
      modelProviders: frozenProviders(options.modelProviders ?? DEFAULT_MODEL_PROVIDERS),
      ...(options.effects === undefined ? {} : { effects: options.effects }),
    };
    const trustedRoot = options.skillsTrustedRoot;
    this.#skills = {
      root: options.skillsRoot ?? null,
      // Loaded only when a skill is checked: the embedded root is parsed once, on first use.
      trustedRoot: trustedRoot === undefined ? publicGoodTrustedRoot : () => trustedRoot,
      store: new SkillStore(options.stateDir),
    };
  }

  /** Opens the state directory's log, folds it, and records the start (and any repair). */
  static async open(options: GatewayOptions): Promise<Gateway> {
    const state = new GatewayState();
    const { log, recovery } = await EventLog.open({
      dir: options.stateDir,
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.checkpointEvery === undefined ? {} : { checkpointEvery: options.checkpointEvery }),
      ...(options.fileHandleFactory === undefined ? {} : { fileHandleFactory: options.fileHandleFactory }),
      ...(options.witness === undefined ? {} : { witness: options.witness }),
      onRecord: (record) => state.fold(record),
      recordTypes: foldsRecordType,
    });
    const gateway = new Gateway(log, state, recovery, options);
    await gateway.#started();
    return gateway;
  }

  async #started(): Promise<void> {
    const { recovery } = this;
    if (recovery.truncatedBytes > 0) {
      void this.#append({
        type: "gateway.recovered",
        truncatedBytes: recovery.truncatedBytes,
        ...(recovery.tornRecord === undefined ? {} : { tornRecord: recovery.tornRecord }),
        ...(recovery.unsignedRecords === undefined ? {} : { unsignedRecords: recovery.unsignedRecords }),
        ...(recovery.quarantine === undefined ? {} : { quarantine: recovery.quarantine }),
      });
    }
    let last = this.#append({ type: "gateway.started", pid: process.pid, lifecycle: LIFECYCLE_VERSION });
    // An approval whose application never got its record: say so, and let an operator retry it.
    for (const change of [...this.#state.changes()]) {
      if (change.state === "approved") {
        last = this.#append({
          type: "change.apply_failed",
          id: change.id,
          reason: "the gateway stopped before applying this change; retry to apply it",
        });
      }
    }
    await last;
  }

  get ready(): boolean {
    return !this.#log.failed;
  }

  get registry(): Registry {
    return this.#durableRegistry;
  }

  /** Calls `listener` with each new registry once the change that made it is on disk. */
  onRegistryChange(listener: (registry: Registry) => void): () => void {
    this.#registryListeners.add(listener);
    return () => this.#registryListeners.delete(listener);
  }

  get head(): { readonly seq: number; readonly hash: string } {
    return this.#log.head;
  }

  /** Appends and folds in one synchronous step, so no other request can act between check and record. */
  #append(event: NewEvent): Promise<void> {
    if (this.#log.failed) {
      throw new GatewayError(
        "IC_AUDIT_WRITE",
        "the event log cannot be written; nothing can change until it is fixed",
      );
    }
    const { record, durable } = this.#log.append(event);
    this.#state.fold(record);
    if (record.type === "change.applied") {
      // Published only once its record is on disk: nothing applies without its record.
      const registry = this.#state.registry;
      durable.then(
        () => {
          this.#durableRegistry = registry;
          for (const listener of this.#registryListeners) listener(registry);
        },
        () => undefined,
      );
    }
    // Several records may be appended before one is awaited; a failed write fails every later one too,
    // so awaiting the last is enough, and the others must not count as unhandled.
    durable.catch(() => undefined);
    return durable;
  }

  /**
   * Records who a principal is the first time it authors a change record, so the fold can check every
   * later record it authors against the log itself. Synchronous: call it right before that record.
   */
  #recordPrincipal(principal: Principal): void {
    const known = this.#state.principalRole(principal.id);
    if (known === principal.role) return;
    if (known !== undefined) {
      throw new GatewayError(
        "IC_API_FORBIDDEN",
        `${principal.id} is recorded in the log as ${known}, not ${principal.role}; principals.json was edited`,
      );
    }
    void this.#append({ type: "principal.recorded", id: principal.id, role: principal.role });
  }

  #now(): Date {
    return this.#options.now();
  }

  /** Moves every pending change past its deadline to `expired`. */
  expireDue(): Promise<void> {
    let last: Promise<void> = Promise.resolve();
    for (const id of this.#state.due(this.#now().getTime())) {
      last = this.#append({ type: "change.expired", id });
    }
    return last;
  }

  async submit(principal: Principal, body: unknown): Promise<SubmitResult> {
    requireRole(principal, ["operator", "agent"], "submit changes");
    this.#requireChangesRequest(principal);
    // Before anything is parsed or recorded: a full queue must not turn into log growth either.
    await this.expireDue();
    const capped = pendingCapProblem(this.#pendingCounts(principal));
    if (capped !== undefined) {
      throw new GatewayError(
        "IC_API_RATE_LIMITED",
        `${capped}; nothing was recorded. Wait for an operator to decide on them, or cancel some`,
      );
    }
    const submission = SUBMISSION_SCHEMA.safeParse(body);
    if (!submission.success) {
      return this.#refuse(principal, undefined, parseFailure(submission.error, "change request"));
    }
    const { kind } = submission.data;
    const parsed = (PAYLOAD_SCHEMAS[kind] as unknown as z.ZodMiniType<PayloadOf<ChangeKind>>).safeParse(
      submission.data.payload,
    );
    if (!parsed.success) return this.#refuse(principal, kind, parseFailure(parsed.error, `${kind} payload`));
    const payload = parsed.data;
    if (principal.role === "agent" && kind !== "create_agent" && payload.agent !== principal.agent) {
      throw new GatewayError(
        "IC_CHANGE_FORBIDDEN",
        `${principal.id} may submit changes only for agent ${principal.agent ?? "?"}, not ${payload.agent}`,
      );
    }
    // The only I/O the chain needs, done first: from here to the record nothing awaits.
    const mounts = await mountFacts(this.#options.mountsRoot, kind, payload);
    const packages = await packageVerdicts(this.#options.packages, this.#state.registry, kind, payload);
    const skills = await this.#resolveSkills(kind, payload);
    await this.expireDue();
    const context = this.#verifierContext(principal, mounts, packages, skills);
    const id = `c${this.#state.submittedCount + 1}`;
    const stored = payload as unknown as JsonObject;
    const digest = changeDigest({ id, kind, payload: stored, requester: principal.id });
    const chain = runVerifierChain({ kind, payload }, context);
    const expiresAt = new Date(this.#now().getTime() + this.#options.ttlMs).toISOString();
    // Again with nothing awaited before the record: a revocation applied meanwhile holds.
    this.#requireChangesRequest(principal);
    this.#recordPrincipal(principal);
    let durable = this.#append({
      type: "change.submitted",
      id,
      kind,
      agent: payload.agent,
      payload: stored,
      digest,
      requester: principal.id,
      requesterRole: principal.role,
      expiresAt,
      verifiers: chain.passed,
    });
    if (chain.refusal !== undefined) {
      durable = this.#append({
        type: "change.rejected",
        id,
        by: `verifier:${chain.refusal.verifier}`,
        reason: chain.refusal.reason,
      });
    }
    await durable;
    const change = this.#mustGet(id);
    return chain.refusal === undefined ? { change } : { change, refusal: chain.refusal };
  }

  /** An agent asks for changes only while it holds `changes.request`, whichever API it comes through. */
  #requireChangesRequest(principal: Principal): void {
    if (principal.role !== "agent") return;
    requireGrant(this.#state.registry, principal.agent ?? "", "changes.request", "request changes");
  }

  async #refuse(principal: Principal, kind: ChangeKind | undefined, reason: string): Promise<never> {
    await this.#append({
      type: "change.refused",
      requester: principal.id,
      ...(kind === undefined ? {} : { kind }),
      reason,
    });
    throw new GatewayError("IC_CHANGE_INVALID", reason);
  }

  #resolveSkills(kind: ChangeKind, payload: PayloadOf<ChangeKind>): Promise<SkillsContext> {
    if (kind !== "skills") return Promise.resolve({ root: null, facts: new Map() });
    return gatherSkillFacts({ ...this.#skills, payload: payload as PayloadOf<"skills"> });
  }

  /** An agent's record as the agent is shown it: its skills as what they say, read from the skill store. */
  async agentView(
    agent: string,
  ): Promise<(Omit<AgentRecord, "skills"> & { skills: AgentSkillView[] }) | undefined> {
    const record = agentNamed(this.registry, agent);
    if (record === undefined) return undefined;
    return { ...record, skills: await agentSkills(this.#skills.store, record) };
  }

  /** For a `skills` change: each skill's description and needed tools, and which are not enabled now. */
  skillNotes(change: Change): Promise<SkillNote[] | undefined> {
    return skillNotes(this.#skills.store, this.registry, change);
  }

  #pendingCounts(principal: Principal) {
    return {
      pendingForRequester: this.#state.pendingBy(principal.id),
      pendingCap: this.#options.pendingCap,
      pendingTotal: this.#state.pendingTotal,
      pendingTotalCap: this.#options.pendingTotalCap,
    };
  }

  #verifierContext(
    principal: Principal,
    mounts: VerifierContext["mounts"],
    packages: VerifierContext["packages"],
    skills: SkillsContext,
  ): VerifierContext {
    return {
      registry: this.#state.registry,
      tools: this.#options.tools,
      ...this.#pendingCounts(principal),
      pendingNewAgents: this.#state.pendingNewAgents,
      mounts,
      packages,
      modelProviders: this.#options.modelProviders,
      skills,
    };
  }

  #mustGet(id: string): Change {
    const change = this.#state.change(id);
    if (change === undefined) throw new GatewayError("IC_CHANGE_NOT_FOUND", `no change ${id}`);
    return change;
  }

  /** An agent sees only the changes it asked for; for it, the others do not exist. */
  #visible(principal: Principal, id: string): Change {
    const change = this.#state.change(id);
    if (change === undefined || (principal.role === "agent" && change.requester !== principal.id)) {
      throw new GatewayError("IC_CHANGE_NOT_FOUND", `no change ${id}`);
    }
    return change;
  }

  #pending(change: Change, action: string): void {
    if (change.state !== "pending") {
      throw new GatewayError(
        "IC_CHANGE_CONFLICT",
        `change ${change.id} is ${change.state}; only a pending change can be ${action}`,
      );
    }
  }

  async approve(principal: Principal, id: string, body: unknown): Promise<Change> {
    requireRole(principal, ["operator"], "approve changes");
    const { digest } = parseBody(APPROVAL_SCHEMA, body, "approval");
    await this.expireDue();
    const change = this.#mustGet(id);
    this.#pending(change, "approved");
    // Agents never approve (the role check above); this holds even if a role were ever widened.
    if (change.requesterRole === "agent" && change.requester === principal.id) {
      throw new GatewayError(
        "IC_CHANGE_FORBIDDEN",
        `${principal.id} asked for ${id}, so it cannot approve it`,
      );
    }
    this.#recordPrincipal(principal);
    if (digest !== change.digest) {
      await this.#append({ type: "change.approval_refused", id, by: principal.id, digest });
      throw new GatewayError(
        "IC_CHANGE_DIGEST_MISMATCH",
        `the digest approved (${digest}) is not change ${id}'s (${change.digest}); show the change again and approve what you saw`,
      );
    }
    await this.#append({ type: "change.approved", id, by: principal.id, digest });
    return this.#apply(id);
  }

  async reject(principal: Principal, id: string, body: unknown): Promise<Change> {
    requireRole(principal, ["operator"], "reject changes");
    const { reason } = parseBody(REJECTION_SCHEMA, body, "rejection");
    await this.expireDue();
    this.#pending(this.#mustGet(id), "rejected");
    this.#recordPrincipal(principal);
    await this.#append({ type: "change.rejected", id, by: principal.id, reason });
    return this.#mustGet(id);
  }

  async cancel(principal: Principal, id: string, body: unknown): Promise<Change> {
    requireRole(principal, ["operator", "agent"], "cancel changes");
    parseBody(EMPTY_SCHEMA, body, "cancellation");
    await this.expireDue();
    this.#pending(this.#visible(principal, id), "cancelled");
    this.#recordPrincipal(principal);
    await this.#append({ type: "change.cancelled", id, by: principal.id });
    return this.#mustGet(id);
  }

  /** Applies again a change whose application failed. */
  async retry(principal: Principal, id: string, body: unknown): Promise<Change> {
    requireRole(principal, ["operator"], "retry changes");
    parseBody(EMPTY_SCHEMA, body, "retry");
    const change = this.#mustGet(id);
    if (change.state !== "apply_failed") {
      throw new GatewayError(
        "IC_CHANGE_CONFLICT",
        `change ${id} is ${change.state}; only apply_failed can be retried`,
      );
    }
    this.#recordPrincipal(principal);
    await this.#append({ type: "change.retried", id, by: principal.id });
    return this.#apply(id);
  }

  async #apply(id: string): Promise<Change> {
    const change = this.#mustGet(id);
    try {
      this.#nextRegistry(change);
      if (change.kind === "create_agent") await this.#options.effects?.createAgentCredentials(change.agent);
      // Again, after the await and with nothing awaited before the record: the registry it folds onto
      // is the one the record will be folded onto, so a `change.applied` on disk always folds.
      this.#nextRegistry(change);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      await this.#append({ type: "change.apply_failed", id, reason });
      throw new GatewayError(
        "IC_CHANGE_APPLY_FAILED",
        `change ${id} was approved but applying it failed: ${reason}`,
      );
    }
    await this.#append({ type: "change.applied", id, digest: change.digest });
    return this.#mustGet(id);
  }

  /** The registry this change would make; throws, before anything is recorded, if it cannot apply. */
  #nextRegistry(change: Change): Registry {
    return foldRegistry(this.#state.registry, {
      type: "change.applied",
      id: change.id,
      kind: change.kind,
      payload: change.payload,
    });
  }

  list(principal: Principal, filter: { readonly state?: ChangeState } = {}): Change[] {
    const all = [...this.#state.changes()];
    return all.filter(
      (c) =>
        (filter.state === undefined || c.state === filter.state) &&
        (principal.role !== "agent" || c.requester === principal.id),
    );
  }

  show(principal: Principal, id: string): Change {
    return this.#visible(principal, id);
  }

  /**
   * A message between an operator and an agent. Messages carry instructions and reports, never
   * capabilities: nothing in one changes what the agent may do.
   */
  async sendMessage(principal: Principal, agent: string, body: unknown): Promise<AgentMessage> {
    requireRole(principal, ["operator", "agent"], "send messages");
    const { text } = parseBody(MESSAGE_SCHEMA, body, "message");
    if (principal.role === "agent" && principal.agent !== agent) {
      throw new GatewayError("IC_API_FORBIDDEN", `${principal.id} may post only as itself`);
    }
    if (agentNamed(this.#state.registry, agent) === undefined) {
      throw new GatewayError("IC_API_NOT_FOUND", `no agent named ${agent}`);
    }
    const direction = principal.role === "agent" ? "out" : "in";
    // Appending is synchronous, so this is the record's number.
    const seq = this.#log.head.seq + 1;
    await this.#append({ type: "agent.message", agent, direction, from: principal.id, text });
    return this.#state.messages(agent, direction, seq - 1)[0] as AgentMessage;
  }

  /**
   * A message from one agent to another: allowed while the sender holds `messages.send` and the peer is
   * wired to it, checked against the registry the record folds onto (nothing awaited in between). It is
   * recorded as the peer's inbound message from `agent:<sender>`, and the fold checks it again.
   */
  async sendPeerMessage(principal: Principal, body: unknown): Promise<AgentMessage> {
    requireRole(principal, ["agent"], "message other agents");
    const sender = principal.agent ?? "";
    const { to, text } = parseBody(PEER_MESSAGE_SCHEMA, body, "message");
    const problem = peerMessageProblem(this.#state.registry, sender, to);
    if (problem !== undefined) throw new GatewayError("IC_API_FORBIDDEN", problem);
    const seq = this.#log.head.seq + 1;
    await this.#append({ type: "agent.message", agent: to, direction: "in", from: principal.id, text });
    return this.#state.messages(to, "in", seq - 1)[0] as AgentMessage;
  }

  messages(principal: Principal, agent: string, direction: "in" | "out", after: number): AgentMessage[] {
    if (principal.role === "agent" && principal.agent !== agent) {
      throw new GatewayError("IC_API_FORBIDDEN", `${principal.id} may read only its own messages`);
    }
    return this.#state.messages(agent, direction, after);
  }

  /** Security events from the API's edge (failed authentication, rate limiting); never awaited by it. */
  recordSecurityEvent(event: { readonly type: string; readonly [field: string]: JsonValue }): void {
    if (this.#log.failed) return;
    this.#append(event).catch(() => {
      // The log is now failed; every later request says so.
    });
  }

  /** Durable records after `after`, including every record appended before this call. */
  async audit(after: number, limit: number): Promise<LogRecord[]> {
    // Read your writes: a client that saw the effect of a request (a 403 from the egress broker, say)
    // sees its record, even while that record's group commit is still being synced.
    await this.#log.settled();
    return this.#log.read(after, limit);
  }

  signHead(): Checkpoint {
    return this.#log.signHead();
  }

  checkpoints(): Promise<Checkpoint[]> {
    return this.#log.checkpoints();
  }

  publicKeyPem(): string {
    return this.#log.publicKeyPem();
  }

  async close(): Promise<void> {
    if (!this.#log.failed) await this.#append({ type: "gateway.stopped" }).catch(() => undefined);
    await this.#log.close();
  }
}

/** A copy the caller cannot change afterwards: what the chain judges by is what the gateway was given. */
function frozenProviders(providers: ModelProviders): ModelProviders {
  const copy = new Map<string, { readonly models: readonly string[] | null }>();
  for (const [name, { models }] of providers) {
    copy.set(name, Object.freeze({ models: models === null ? null : Object.freeze([...models]) }));
  }
  return copy;
}

function parseFailure(error: z.core.$ZodError, what: string): string {
  const issues = error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`);
  return `${what} refused: ${issues.slice(0, 5).join("; ")}`;
}
