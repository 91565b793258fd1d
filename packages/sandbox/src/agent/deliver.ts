import type { HostApi } from "./host-api.js";

/** The gateway's bound on one message's text. */
export const MESSAGE_CHARS = 4096;
const KEPT = 4000;

/**
 * Delivers a task's reply: to the peer that asked, else (or if that fails) to the operator. The
 * gateway refuses a message over 4096 characters or with hidden characters (which a model may quote
 * from a page); the reply must not then vanish, so a long one is cut, and one still refused is
 * replaced by the gateway's reason, so the operator always hears back.
 */
export async function deliverReply(api: HostApi, reply: string, peer: string | undefined): Promise<void> {
  const points = [...reply];
  const text =
    points.length > KEPT || reply.length > MESSAGE_CHARS
      ? `${points.slice(0, KEPT).join("")}\n[cut at ${KEPT} of ${points.length} characters]`
      : reply;
  if (peer !== undefined && (await api.say(text, peer)).status === 201) return;
  const sent = await api.say(text);
  if (sent.status === 201) return;
  const error = sent.body.error as { code?: string; message?: string } | undefined;
  const why = `${error?.code ?? `status ${sent.status}`}: ${error?.message ?? "refused"}`;
  await api.say(`my reply could not be delivered (${why})`.slice(0, MESSAGE_CHARS));
}
