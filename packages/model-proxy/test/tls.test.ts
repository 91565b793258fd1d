import { loopbackTls } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveSystemTools } from "../../../test/support/system-tools.js";
import { anthropicProvider, DEFAULT_HTTP_LIMITS, type ModelProviders } from "../src/index.js";
import { callProxy, FakeProvider, fixture, type ProxyHarness, providersOf, startHarness } from "./helpers.js";

/** Providers over https on loopback: a certificate that does not verify is never talked past. */
const haveOpenssl = haveSystemTools("model proxy against TLS providers", ["openssl"]);
const tls = haveOpenssl ? await loopbackTls() : undefined;
const KEY = "sk-ant-PLANTED-tls-5e2b8a0d4c";
const APPROVAL = { provider: "trusted", model: "claude-x", maxOutputTokens: 100, dailyTokens: 1_000_000 };
const REQUEST = { system: "", messages: [{ role: "user", content: "hi" }], tools: [] };

describe.runIf(haveOpenssl)("TLS to a provider", () => {
  let good: FakeProvider;
  let rogue: FakeProvider;
  let providers: ModelProviders;
  const harnesses: ProxyHarness[] = [];

  beforeAll(async () => {
    if (tls === undefined) return;
    good = await FakeProvider.start({ key: tls.leafKey, cert: tls.leafCert });
    rogue = await FakeProvider.start({ key: tls.rogueKey, cert: tls.rogueCert });
    const body = await fixture("anthropic-sdk-python/end-turn.json");
    good.reply(200, body);
    rogue.reply(200, body);
    const limits = { ...DEFAULT_HTTP_LIMITS, deadlineMs: 5_000 };
    providers = providersOf(
      anthropicProvider({
        name: "trusted",
        baseUrl: new URL(good.origin),
        apiKey: KEY,
        models: null,
        limits,
      }),
      anthropicProvider({ name: "rogue", baseUrl: new URL(rogue.origin), apiKey: KEY, models: null, limits }),
    );
  });
  afterAll(async () => {
    for (const harness of harnesses) await harness.close();
    await good?.close();
    await rogue?.close();
  });

  async function harness(ca?: string): Promise<ProxyHarness> {
    const started = await startHarness({
      providers,
      approval: APPROVAL,
      ...(ca === undefined ? {} : { ca: [ca] }),
    });
    harnesses.push(started);
    return started;
  }

  it("talks to a provider whose certificate chains to a trusted CA", async () => {
    const proxy = await harness(tls?.caCert);
    const answer = await callProxy(proxy.proxy.socketPath, REQUEST);
    expect(answer.status).toBe(200);
    expect(good.seen.at(-1)?.headers["x-api-key"]).toBe(KEY);
  });

  it("refuses the same provider when its CA is not trusted, before sending the key", async () => {
    const before = good.seen.length;
    const proxy = await harness();
    const answer = await callProxy(proxy.proxy.socketPath, REQUEST);
    expect(answer.status).toBe(502);
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_TLS");
    expect(good.seen.length).toBe(before);
  });

  it("refuses a self-signed certificate even with the test CA trusted", async () => {
    const proxy = await harness(tls?.caCert);
    proxy.approval = { ...APPROVAL, provider: "rogue" };
    const answer = await callProxy(proxy.proxy.socketPath, REQUEST);
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_TLS");
    expect(rogue.seen).toHaveLength(0);
    expect(answer.text).not.toContain(KEY);
  });
});
