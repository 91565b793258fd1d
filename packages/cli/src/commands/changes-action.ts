import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type ApiReply, type Connection, type ConnectionFlags, call, connect } from "../control/client.js";
import {
  CHANGE_LIST_HEADER,
  type ChangeView,
  renderAuditRecord,
  renderChange,
  renderChangeLine,
} from "../control/render.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { type CommandContext, writeJson } from "./context.js";

export interface ChangesFlags extends ConnectionFlags {
  readonly json?: boolean;
  readonly payload?: string;
  readonly payloadFile?: string;
  readonly status?: string;
  readonly digest?: string;
  readonly reason?: string;
}

export const CHANGES_SCHEMA = "https://ironclaw.dev/schemas/changes/v1";

async function readPayload(flags: ChangesFlags, context: CommandContext): Promise<unknown> {
  if ((flags.payload === undefined) === (flags.payloadFile === undefined)) {
    throw new CliError(
      "IC_USAGE",
      "give the payload with exactly one of --payload JSON or --payload-file FILE",
    );
  }
  let text = flags.payload;
  if (flags.payloadFile === "-") {
    const chunks: Uint8Array[] = [];
    for await (const chunk of context.io.stdin) chunks.push(chunk);
    text = Buffer.concat(chunks).toString("utf8");
  } else if (flags.payloadFile !== undefined) {
    text = await readFile(resolve(context.io.cwd, flags.payloadFile), "utf8");
  }
  try {
    return JSON.parse(text ?? "");
  } catch (cause) {
    throw new CliError("IC_USAGE", `the payload is not JSON: ${(cause as Error).message}`, { cause });
  }
}

/** The last records of the log, or nothing when this principal may not read it. */
async function recentAudit(connection: Connection): Promise<ApiReply | undefined> {
  try {
    const head = await call(connection, "GET", "/v1/audit?limit=0");
    const seq = (head.body.head as { seq: number }).seq;
    return await call(connection, "GET", `/v1/audit?after=${Math.max(0, seq - 1000)}&limit=1000`);
  } catch {
    return undefined;
  }
}

export async function changesAction(
  action: "submit" | "list" | "show" | "approve" | "reject" | "cancel" | "retry",
  positional: readonly string[],
  flags: ChangesFlags,
  context: CommandContext,
): Promise<void> {
  const { io } = context;
  const connection = await connect(io, flags);
  const [argument = ""] = positional;
  const id = encodeURIComponent(argument);
  const print = (document: Record<string, unknown>, human: string) => {
    if (flags.json === true) writeJson(io, { schema: CHANGES_SCHEMA, ...document });
    else io.stdout.write(human);
  };

  switch (action) {
    case "submit": {
      const payload = await readPayload(flags, context);
      const reply = await call(
        connection,
        "POST",
        "/v1/changes",
        { kind: argument, payload },
        { accept: [422] },
      );
      const change = reply.body.change as ChangeView;
      if (reply.status === 422) {
        const error = reply.body.error as { code: string; message: string };
        print({ ok: false, change, error }, `${renderChange(change)}${error.message}\n`);
        context.setExitCode(ExitCode.rejected);
        return;
      }
      print(
        { ok: true, change },
        `${renderChange(change)}Nothing changes until an operator approves exactly this:\n  ironclaw changes approve ${change.id} --digest ${change.digest}\n`,
      );
      return;
    }
    case "list": {
      // `held` is how a pending change is shown, so it is accepted as a status too.
      const status = flags.status === "held" ? "pending" : flags.status;
      const changes: ChangeView[] = [];
      let after: string | null = "c0";
      while (after !== null) {
        const state = status === undefined ? "" : `&state=${encodeURIComponent(status)}`;
        const reply = await call(connection, "GET", `/v1/changes?after=${after}&limit=1000${state}`);
        changes.push(...(reply.body.changes as ChangeView[]));
        after = typeof reply.body.next === "string" ? reply.body.next : null;
      }
      print(
        { ok: true, changes },
        changes.length === 0
          ? "no changes\n"
          : `${CHANGE_LIST_HEADER}${changes.map(renderChangeLine).join("")}`,
      );
      return;
    }
    case "show": {
      const reply = await call(connection, "GET", `/v1/changes/${id}`);
      const change = reply.body.change as ChangeView;
      print({ ok: true, change }, renderChange(change, { payload: true }));
      return;
    }
    case "approve":
    case "reject":
    case "cancel":
    case "retry": {
      const body =
        action === "approve" ? { digest: flags.digest } : action === "reject" ? { reason: flags.reason } : {};
      const reply = await call(connection, "POST", `/v1/changes/${id}/${action}`, body);
      const change = reply.body.change as ChangeView;
      // The trail of this change, so the human sees every record it left.
      const audit = await recentAudit(connection);
      const records = ((audit?.body.records ?? []) as Record<string, unknown>[]).filter(
        (r) => r.id === change.id,
      );
      const trail = records.length === 0 ? "" : `audit trail:\n${records.map(renderAuditRecord).join("")}`;
      print({ ok: true, change, audit: records }, `${renderChange(change)}${trail}`);
      return;
    }
  }
}
