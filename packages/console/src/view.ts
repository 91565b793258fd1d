import {
  type AgentMessage,
  type Gateway,
  isGatewayError,
  type JsonValue,
  type LogRecord,
  type Principal,
} from "@ironclaw/gateway";

const RECENT_DECIDED = 20;
const AUDIT_TAIL = 100;
const MESSAGES_SHOWN = 20;

/**
 * The verifier chain's verdicts are written in each change.submitted record, not kept on the change;
 * this reads new records once and remembers the verdicts by change id.
 */
export class Verdicts {
  readonly #byId = new Map<string, readonly string[]>();
  #seq = 0;

  async update(gateway: Gateway): Promise<void> {
    while (this.#seq < gateway.head.seq) {
      const records = await gateway.audit(this.#seq, 1000);
      if (records.length === 0) break;
      for (const record of records) {
        const fields = record as unknown as Record<string, JsonValue>;
        if (fields.type === "change.submitted" && typeof fields.id === "string") {
          const passed = Array.isArray(fields.verifiers) ? fields.verifiers : [];
          this.#byId.set(
            fields.id,
            passed.filter((name): name is string => typeof name === "string"),
          );
        }
        this.#seq = record.seq;
      }
    }
  }

  passed(id: string): readonly string[] {
    return this.#byId.get(id) ?? [];
  }
}

/** Everything the page shows, read through the gateway as the signed-in principal. */
export async function consoleView(
  gateway: Gateway,
  principal: Principal,
  verdicts: Verdicts,
  agentStatus: (agent: string) => string = () => "not known to this console",
) {
  await verdicts.update(gateway);
  const all = gateway.list(principal);
  const pending = await Promise.all(
    all
      .filter((change) => change.state === "pending")
      .map(async (change) => {
        // A skills change: what each skill needs and which of those tools the agent does not have.
        const skills = await gateway.skillNotes(change);
        return {
          ...change,
          verifiers: verdicts.passed(change.id),
          ...(skills === undefined ? {} : { skills }),
        };
      }),
  );
  const decided = all
    .filter((change) => change.state !== "pending")
    .slice(-RECENT_DECIDED)
    .reverse()
    .map((change) => ({ ...change, verifiers: verdicts.passed(change.id) }));
  const messages: Record<string, AgentMessage[]> = Object.create(null);
  const sandboxes: Record<string, string> = Object.create(null);
  for (const name of Object.keys(gateway.registry.agents)) {
    sandboxes[name] = agentStatus(name);
    const both = [
      ...gateway.messages(principal, name, "in", 0).slice(-MESSAGES_SHOWN),
      ...gateway.messages(principal, name, "out", 0).slice(-MESSAGES_SHOWN),
    ];
    messages[name] = both.sort((a, b) => a.seq - b.seq).slice(-MESSAGES_SHOWN);
  }
  const checkpoint = (await gateway.checkpoints()).at(-1) ?? null;
  const head = gateway.head;
  // A log that cannot be read back (rewritten on disk, say) is shown as such, not as a broken page.
  let audit: LogRecord[] = [];
  let auditError: { code: string; message: string } | null = null;
  try {
    audit = await gateway.audit(Math.max(0, head.seq - AUDIT_TAIL), AUDIT_TAIL);
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    auditError = { code: error.code, message: error.message };
  }
  return {
    principal: { id: principal.id, role: principal.role },
    head,
    registry: gateway.registry,
    pending,
    decided,
    audit: audit.reverse(),
    auditError,
    messages,
    sandboxes,
    checkpoint,
  };
}
