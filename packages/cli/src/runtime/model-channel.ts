import { join } from "node:path";
import { type AgentRecord, agentNamed, type Gateway } from "@ironclaw/gateway";
import {
  createMemoryLedger,
  type ModelCallEvent,
  type ModelProviders,
  type ModelProxy,
  seedLedger,
  startModelProxy,
  type UsageLedger,
  utcDay,
} from "@ironclaw/model-proxy";
import { gatewayAuditSink } from "./audit-sink.js";

/** What the host needs to give agents a model: the operator's providers (keys inside) and a ledger. */
export interface ModelChannelOptions {
  readonly providers: ModelProviders;
  readonly ledger: UsageLedger;
  /** Extra roots for https providers (a test's loopback stand-in). */
  readonly ca?: readonly string[];
}

/**
 * Today's usage, rebuilt from the log's `model.call` records, so a restart of `ironclaw up` does not
 * hand every agent a fresh daily budget.
 */
export async function ledgerFromLog(gateway: Gateway, now: Date = new Date()): Promise<UsageLedger> {
  const ledger = createMemoryLedger();
  const today = utcDay(now);
  const page = 5000;
  for (let after = 0; ; ) {
    const records = await gateway.audit(after, page);
    seedLedger(
      ledger,
      records.flatMap((record) =>
        record.type === "model.call" && String(record.time).startsWith(today)
          ? [{ at: new Date(String(record.time)), event: record as unknown as ModelCallEvent }]
          : [],
      ),
    );
    if (records.length < page) return ledger;
    after = records.at(-1)?.seq ?? after;
  }
}

/**
 * The agent's model socket exists exactly while a `model` change is applied for it: started when the
 * registry gains one, closed (and the socket removed) when it is revoked. The approval is read from the
 * registry at every call, so a change of model takes effect at the next call.
 */
export async function syncModelProxy(
  current: ModelProxy | undefined,
  agent: AgentRecord,
  runDir: string,
  gateway: Gateway,
  options: ModelChannelOptions | undefined,
): Promise<ModelProxy | undefined> {
  const wanted = agent.model !== null && options !== undefined;
  if (wanted && current === undefined) {
    return startModelProxy({
      socketPath: join(runDir, "model.sock"),
      agent: agent.name,
      approval: () => agentNamed(gateway.registry, agent.name)?.model ?? undefined,
      providers: options.providers,
      ledger: options.ledger,
      // Throws while the log cannot be written: the proxy then answers no call it cannot audit (the
      // budget after a restart is rebuilt from these records).
      audit: gatewayAuditSink(gateway),
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
  }
  if (!wanted && current !== undefined) {
    await current.close();
    return undefined;
  }
  return current;
}
