import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { KEY_CANARY_PREFIX, type ProbeConfig } from "./invariants.js";
import { attempt, type Observation, observe, why } from "./probe-util.js";

const MODEL_SOCKET = "/run/ironclaw/model.sock";
const TIMEOUT_MS = 5000;

export function modelBeforeApproval(): Observation {
  const exists = attempt(() => existsSync(MODEL_SOCKET));
  return observe(exists.ok && exists.value === true ? "allowed" : "denied", [
    `exists ${MODEL_SOCKET}: ${exists.ok ? String(exists.value) : exists.reason}`,
  ]);
}

/** Where a key could have leaked to: every readable file, and every visible process's environment and arguments. */
export function modelKey(): Observation {
  const needle = Buffer.from(KEY_CANARY_PREFIX);
  const found: string[] = [];
  let read = 0;
  if (Object.values(process.env).some((value) => value?.includes(KEY_CANARY_PREFIX)))
    found.push("environment");
  // Node's permission model may refuse to list "/", so the places the sandbox is given are walked too.
  const pending = ["/", "/runtime", "/workspace", "/run/ironclaw", "/tmp"];
  const walked = new Set<string>();
  const skip = new Set(["/proc", "/sys", "/dev"]);
  let visited = 0;
  while (pending.length > 0 && visited < 50_000) {
    const dir = pending.pop() as string;
    if (walked.has(dir)) continue;
    walked.add(dir);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      visited += 1;
      if (skip.has(path)) continue;
      const stat = attempt(() => lstatSync(path));
      if (!stat.ok) continue;
      const info = stat.value as ReturnType<typeof lstatSync>;
      if (info?.isDirectory()) pending.push(path);
      else if (info?.isFile() && info.size <= 4 * 1024 * 1024) {
        const bytes = attempt(() => readFileSync(path));
        if (bytes.ok) {
          read += 1;
          if ((bytes.value as Buffer).includes(needle)) found.push(path);
        }
      }
    }
  }
  for (const pid of attempt(() => readdirSync("/proc")).ok ? readdirSync("/proc") : []) {
    if (!/^[0-9]+$/.test(pid)) continue;
    for (const file of ["environ", "cmdline"]) {
      const bytes = attempt(() => readFileSync(`/proc/${pid}/${file}`));
      if (bytes.ok) {
        read += 1;
        if ((bytes.value as Buffer).includes(needle)) found.push(`/proc/${pid}/${file}`);
      }
    }
  }
  return observe(found.length > 0 ? "allowed" : "denied", [
    found.length > 0 ? `the host's provider key is readable in ${found.join(", ")}` : "no provider key found",
    `${read} files and process records read`,
  ]);
}

function complete(
  body: unknown,
): Promise<{ status?: number; json?: Record<string, unknown>; detail: string }> {
  const data = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(
      {
        socketPath: MODEL_SOCKET,
        method: "POST",
        path: "/v1/complete",
        timeout: TIMEOUT_MS,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            ...(json ? { json } : {}),
            detail: `HTTP ${res.statusCode}`,
          });
        });
      },
    );
    req.once("timeout", () => req.destroy(new Error("timed out")));
    req.once("error", (error) => resolve({ detail: why(error) }));
    req.end(data);
  });
}

const ASK = { system: "containment probe", messages: [{ role: "user", content: "hello" }], tools: [] };

/** The agent names a provider and a model nobody approved: the proxy must not serve them. */
export async function modelUnapproved(): Promise<Observation> {
  const attempts = [
    await complete({ ...ASK, provider: "anthropic", model: "claude-opus" }),
    await complete({ ...ASK, model: "gpt-4o" }),
  ];
  const details = attempts.map((a) => `${a.detail} ${JSON.stringify(a.json?.error ?? a.json?.model ?? "")}`);
  if (attempts.some((a) => a.status === 200)) return observe("allowed", details);
  if (attempts.every((a) => a.status !== undefined && a.status >= 400)) return observe("denied", details);
  return observe("inconclusive", [...details, "the proxy did not answer"]);
}

/** Asks again and again: the tokens served must stay within the approved daily budget. */
export async function modelBudget(config: ProbeConfig): Promise<Observation> {
  const budget = config.modelDailyTokens ?? 0;
  let used = 0;
  let refusal: string | undefined;
  for (let call = 0; call < 200 && refusal === undefined; call += 1) {
    const answer = await complete(ASK);
    if (answer.status === 200) {
      const usage = answer.json?.usage as { inputTokens: number; outputTokens: number } | undefined;
      used += (usage?.inputTokens ?? 0) + (usage?.outputTokens ?? 0);
    } else if (answer.status !== undefined) {
      refusal = JSON.stringify(answer.json?.error ?? answer.detail);
    } else return observe("inconclusive", [`the proxy did not answer: ${answer.detail}`]);
  }
  const details = [
    `${used} tokens served of a daily budget of ${budget}`,
    `then: ${refusal ?? "never refused"}`,
  ];
  if (used > budget || refusal === undefined) return observe("allowed", details);
  return observe(/IC_MODEL_BUDGET/.test(refusal) ? "denied" : "inconclusive", details);
}

export async function controlModelSocket(): Promise<Observation> {
  const answer = await complete(ASK);
  return observe(answer.status === 200 ? "allowed" : "denied", [
    `${answer.detail} ${JSON.stringify(answer.json?.content ?? answer.json?.error ?? "")}`.slice(0, 300),
  ]);
}
