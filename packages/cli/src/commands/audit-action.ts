import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Checkpoint, GatewayError, LOCK_FILE, lockHeld, verifyGatewayLog } from "@ironclaw/gateway";
import { type ConnectionFlags, call, connect, stateDirectory } from "../control/client.js";
import { renderAuditRecord } from "../control/render.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { type CommandContext, writeJson } from "./context.js";

export interface AuditFlags extends ConnectionFlags {
  readonly after?: string;
  readonly follow?: boolean;
  readonly json?: boolean;
}

export interface AuditVerifyFlags {
  readonly state?: string;
  readonly checkpoint?: readonly string[];
  readonly publicKey?: string;
  readonly witness?: string;
  readonly json?: boolean;
}

export const AUDIT_VERIFY_SCHEMA = "https://ironclaw.dev/schemas/audit-verify/v1";
const PAGE = 1000;
const FOLLOW_INTERVAL_MS = 500;
const TORN_RECHECK_MS = 250;
const TORN_RECHECKS = 8;

export async function auditAction(flags: AuditFlags, context: CommandContext): Promise<void> {
  const { io } = context;
  const connection = await connect(io, flags);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(flags.after ?? "0")) {
    throw new CliError("IC_USAGE", `--after takes a record number, not ${flags.after}`);
  }
  let after = Number(flags.after ?? "0");
  for (;;) {
    const reply = await call(connection, "GET", `/v1/audit?after=${after}&limit=${PAGE}`);
    const records = reply.body.records as Record<string, unknown>[];
    for (const record of records) {
      io.stdout.write(
        flags.json === true ? `${JSON.stringify(record)}\n` : renderAuditRecord(record).trimStart(),
      );
      after = record.seq as number;
    }
    if (records.length === PAGE) continue;
    if (flags.follow !== true) return;
    await sleep(FOLLOW_INTERVAL_MS);
  }
}

async function readCheckpoint(path: string): Promise<Checkpoint> {
  let document: unknown;
  try {
    document = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new CliError("IC_USAGE", `cannot read the checkpoint ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  // `audit head --json` wraps the checkpoint; a bare checkpoint is accepted too.
  const wrapped = (document as { checkpoint?: unknown }).checkpoint;
  return (wrapped ?? document) as Checkpoint;
}

export async function auditVerifyAction(flags: AuditVerifyFlags, context: CommandContext): Promise<void> {
  const { io } = context;
  const dir = stateDirectory(io, flags.state);
  try {
    if (!(await stat(dir)).isDirectory())
      throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
  } catch (cause) {
    throw new GatewayError(
      "IC_STATE_INVALID",
      `there is no state directory at ${dir} (${(cause as NodeJS.ErrnoException).code ?? "unreadable"}), so there is no log to verify; pass --state with the directory \`ironclaw up\` used`,
      { cause },
    );
  }
  const kept = await Promise.all(
    (flags.checkpoint ?? []).map((file) => readCheckpoint(resolve(io.cwd, file))),
  );
  const publicKeyPem =
    flags.publicKey === undefined ? undefined : await readFile(resolve(io.cwd, flags.publicKey), "utf8");
  const verify = () =>
    verifyGatewayLog({
      dir,
      ...(publicKeyPem === undefined ? {} : { publicKeyPem }),
      ...(flags.witness === undefined ? {} : { witness: resolve(io.cwd, flags.witness) }),
      keptCheckpoints: kept,
    });
  let report = await verify();
  // A running gateway may be mid-commit: a last line without its newline is then no tear, and records
  // whose seal is still being written are not an unsigned tail.
  const inFlight = () =>
    report.failure?.code === "IC_AUDIT_TORN" || report.failure?.code === "IC_AUDIT_UNSIGNED";
  // A busy gateway may be mid-commit each time: look again a few times (2 s at most), not forever.
  for (
    let attempt = 0;
    attempt < TORN_RECHECKS && inFlight() && (await lockHeld(join(dir, LOCK_FILE)));
    attempt++
  ) {
    await sleep(TORN_RECHECK_MS);
    report = await verify();
  }
  if (flags.json === true) {
    writeJson(io, { schema: AUDIT_VERIFY_SCHEMA, ...report, log: join(dir, "events.jsonl") });
  } else if (report.ok) {
    io.stdout.write(
      `✓ ${report.records} records, hash chain intact, head #${report.head.seq} ${report.head.hash}\n` +
        `✓ ${report.checkpointsChecked} signed checkpoints agree with the log\n`,
    );
  } else if (report.failure !== undefined) {
    const where = report.failure.record === 0 ? "" : `record ${report.failure.record}: `;
    const message = report.failure.message.replace(/^record \d+: /, "");
    io.stdout.write(`✗ ${where}${report.failure.code}: ${message}\n`);
  }
  // A log that says no is a rejection; no log to read is the environment.
  const environment = report.failure?.code === "IC_STATE_INVALID" || report.failure?.code === "IC_AUDIT_KEY";
  if (!report.ok) context.setExitCode(environment ? ExitCode.environment : ExitCode.rejected);
}

export async function auditHeadAction(flags: ConnectionFlags & { json?: boolean }, context: CommandContext) {
  const { io } = context;
  const reply = await call(await connect(io, flags), "GET", "/v1/audit/head");
  const checkpoint = reply.body.checkpoint as Checkpoint;
  if (flags.json === true)
    writeJson(io, { schema: "https://ironclaw.dev/schemas/audit-head/v1", checkpoint });
  else
    io.stdout.write(
      `#${checkpoint.seq} ${checkpoint.hash}\nsigned by ${checkpoint.keyId} at ${checkpoint.time}\n`,
    );
}
