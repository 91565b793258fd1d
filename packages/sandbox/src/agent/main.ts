import { setTimeout as sleep } from "node:timers/promises";
import { SANDBOX_CHANNELS } from "./channels.js";
import { deliverReply } from "./deliver.js";
import { HostApi } from "./host-api.js";
import { DEFAULT_LIMITS, type Inbound, type LoopEnv, runTask } from "./loop.js";
import { ModelUnavailable } from "./model-client.js";
import { WORKSPACE } from "./tools.js";

/**
 * The agent runtime: it waits for messages on the agent API and answers each with one task of the
 * loop. A message from a wired peer is answered to that peer; everything else to the operator.
 */
export async function serve(env: LoopEnv, startAfter = 0): Promise<never> {
  let after = startAfter;
  await env.api.say("ready");
  for (;;) {
    const { messages } = (await env.api.call("GET", `/v1/messages?after=${after}`)).body as {
      messages: (Inbound & { seq: number })[];
    };
    for (const message of messages) {
      after = message.seq;
      let reply: string;
      try {
        reply = await runTask(env, message);
      } catch (error) {
        reply =
          error instanceof ModelUnavailable ? error.message : `the task failed: ${(error as Error).message}`;
      }
      const peer = message.from.startsWith("agent:") ? message.from.slice("agent:".length) : undefined;
      await deliverReply(env.api, reply, peer);
    }
    await sleep(env.limits.pollMs);
  }
}

if (process.env.IRONCLAW_AGENT !== undefined) {
  const pollMs = Number(process.env.IRONCLAW_AGENT_POLL_MS ?? DEFAULT_LIMITS.pollMs);
  // Set by the supervisor on a restart: the inbox position at which this agent was last idle, so a
  // message it already answered is not handled twice.
  const after = /^(0|[1-9][0-9]{0,15})$/.test(process.env.IRONCLAW_MESSAGES_AFTER ?? "")
    ? Number(process.env.IRONCLAW_MESSAGES_AFTER)
    : 0;
  serve(
    {
      channels: SANDBOX_CHANNELS,
      api: new HostApi(SANDBOX_CHANNELS),
      agent: process.env.IRONCLAW_AGENT,
      workspace: WORKSPACE,
      limits: { ...DEFAULT_LIMITS, pollMs },
    },
    after,
  ).catch((error: unknown) => {
    process.stderr.write(`agent stopped: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
