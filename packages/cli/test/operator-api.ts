/** One request to the control plane's API as the operator; a non-2xx answer throws with its body. */
export async function operatorCall(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** What an agent has said to the operator, oldest first. */
export async function agentSaid(url: string, token: string, agent: string): Promise<string[]> {
  const path = `/v1/agents/${agent}/messages?direction=out`;
  const { messages } = (await operatorCall(url, token, "GET", path)) as { messages: { text: string }[] };
  return messages.map((m) => m.text);
}

/** Waits until the agent has said something matching that it had not said before `since` messages. */
export async function agentSays(
  url: string,
  token: string,
  agent: string,
  pattern: RegExp,
  options: { readonly since?: number; readonly timeoutMs?: number; readonly pollMs?: number } = {},
): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const texts = await agentSaid(url, token, agent);
    const found = texts.slice(options.since ?? 0).find((text) => pattern.test(text));
    if (found !== undefined) return found;
    if (Date.now() > deadline)
      throw new Error(`${agent} never said ${pattern}; it said: ${texts.join(" | ")}`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
}
