import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolDigest } from "@ironclaw/mcp-broker";
import { loopbackTls } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveSystemTools } from "../../../test/support/system-tools.js";
import { ECHO, ECHO_PULLED, fixtureState, UNAPPROVED } from "../../mcp-broker/test/fixtures/mcp-server.js";
import { httpMcpServer } from "./agent-mcp-fixtures.js";
import { runCli } from "./helpers.js";

const skip = !haveSystemTools("ironclaw mcp inspect (a TLS MCP server on loopback)", ["openssl"]);

let work: string;
let server: Awaited<ReturnType<typeof httpMcpServer>>;
const state = fixtureState();
let ca: string;

beforeAll(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), "ironclaw-mcp-inspect-"));
  const tls = await loopbackTls();
  ca = join(work, "ca.pem");
  writeFileSync(ca, tls.caCert);
  server = await httpMcpServer(tls, state);
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe.skipIf(skip)("ironclaw mcp inspect", () => {
  it("lists each tool the server offers with the digest a change pins it by, and approves nothing", async () => {
    const url = `https://127.0.0.1:${server.port}/mcp`;
    const result = await runCli(["mcp", "inspect", "--url", url, "--ip-literal", "--ca", ca, "--json"], {
      cwd: work,
    });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { approve: { name: string; digest: string }[] };
    expect(report.approve).toContainEqual({ name: "echo", digest: toolDigest(ECHO) });
    expect(report.approve).toContainEqual({ name: UNAPPROVED.name, digest: toolDigest(UNAPPROVED) });
    expect(server.called).toEqual([]);

    // After a rug pull the digest it shows is the new one: what a new change would have to pin.
    state.rugPulled = true;
    const again = await runCli(["mcp", "inspect", "--url", url, "--ip-literal", "--ca", ca], { cwd: work });
    state.rugPulled = false;
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`"echo"  ${toolDigest(ECHO_PULLED)}`);
  }, 60_000);

  it("dials only as the broker would: an IP literal needs --ip-literal, and an untrusted certificate is refused", async () => {
    const url = `https://127.0.0.1:${server.port}/mcp`;
    const literal = await runCli(["mcp", "inspect", "--url", url, "--ca", ca, "--json"], { cwd: work });
    expect(literal.code).toBe(1);
    expect(JSON.parse(literal.stdout)).toMatchObject({ ok: false, error: { code: "IC_MCP_REFUSED" } });
    const untrusted = await runCli(["mcp", "inspect", "--url", url, "--ip-literal"], { cwd: work });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/IC_MCP_/);
  }, 60_000);
});
