import { type ConnectionFlags, call, connect } from "../control/client.js";
import { terminalSafe } from "../control/render.js";
import { CliError } from "../errors.js";
import { type CommandContext, writeJson } from "./context.js";

export interface AgentsFlags extends ConnectionFlags {
  readonly json?: boolean;
  readonly inbound?: boolean;
  readonly after?: string;
}

const SCHEMA = "https://ironclaw.dev/schemas/agent-messages/v1";

interface Message {
  readonly seq: number;
  readonly time: string;
  readonly from: string;
  readonly text: string;
}

export async function sendAction(agent: string, text: string, flags: AgentsFlags, context: CommandContext) {
  const reply = await call(
    await connect(context.io, flags),
    "POST",
    `/v1/agents/${encodeURIComponent(agent)}/messages`,
    {
      text,
    },
  );
  const message = reply.body.message as Message;
  if (flags.json === true) writeJson(context.io, { schema: SCHEMA, ok: true, message });
  else context.io.stdout.write(`sent #${message.seq} to ${terminalSafe(agent)}\n`);
}

export async function messagesAction(agent: string, flags: AgentsFlags, context: CommandContext) {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(flags.after ?? "0")) {
    throw new CliError("IC_USAGE", `--after takes a record number, not ${flags.after}`);
  }
  const direction = flags.inbound === true ? "in" : "out";
  const reply = await call(
    await connect(context.io, flags),
    "GET",
    `/v1/agents/${encodeURIComponent(agent)}/messages?direction=${direction}&after=${flags.after ?? "0"}`,
  );
  const messages = reply.body.messages as Message[];
  if (flags.json === true) {
    writeJson(context.io, { schema: SCHEMA, ok: true, messages });
    return;
  }
  for (const m of messages)
    context.io.stdout.write(`${terminalSafe(`#${m.seq} ${m.time} ${m.from}: ${m.text}`)}\n`);
}
