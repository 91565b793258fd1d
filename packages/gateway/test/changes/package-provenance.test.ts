import { describe, expect, it } from "vitest";
import type { PackageChecker, PackageRequest, PackageVerdict } from "../../src/changes/verifiers.js";
import { Gateway } from "../../src/gateway.js";
import { agentNamed } from "../../src/registry.js";
import { agentPrincipal, OPERATOR, temporaryDirectories } from "../helpers.js";

// The edge gathers the package store's verdicts; the chain's package_provenance refuses with them.
// The store itself (fetching, integrity, provenance) is tested in packages/package-store, end to end
// with this gateway in gateway-edge.test.ts; here a checker stands in whose verdicts the test sets.
const newDir = temporaryDirectories();
const INTEGRITY = `sha512-${"A".repeat(86)}==`;
const pkg = (name: string, extra: Partial<PackageRequest> = {}) => ({
  name,
  version: "1.0.0",
  integrity: INTEGRITY,
  repository: "github.com/acme/tool",
  ...extra,
});

function checker(list: [string, PackageVerdict][]): PackageChecker & { asked: string[] } {
  const verdicts = new Map(list);
  const asked: string[] = [];
  return {
    asked,
    async check(request) {
      asked.push(request.name);
      const verdict = verdicts.get(request.name);
      if (verdict === undefined) throw new Error(`the stand-in has no verdict for ${request.name}`);
      return verdict;
    },
  };
}

async function gatewayWith(packages: PackageChecker | null) {
  const gateway = await Gateway.open({ stateDir: await newDir(), packages });
  const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "alpha" } });
  await gateway.approve(OPERATOR, change.id, { digest: change.digest });
  return gateway;
}

const submitPackages = (gateway: Gateway, packages: unknown[], principal = OPERATOR) =>
  gateway.submit(principal, { kind: "packages", payload: { agent: "alpha", packages } });

describe("package_provenance at the gateway's edge", () => {
  it("lets a verified package through to a human, and the approved registry pins its integrity", async () => {
    const store = checker([["echo-mcp", { ok: true, attested: true }]]);
    const gateway = await gatewayWith(store);
    const { change, refusal } = await submitPackages(gateway, [pkg("echo-mcp")]);
    expect(refusal).toBeUndefined();
    expect(change.state).toBe("pending");
    expect(store.asked).toEqual(["echo-mcp"]);
    const records = await gateway.audit(0, 100);
    const submitted = records.find((r) => r.type === "change.submitted" && r.id === change.id);
    expect(submitted?.verifiers).toContain("package_provenance");
    await gateway.approve(OPERATOR, change.id, { digest: change.digest });
    expect(agentNamed(gateway.registry, "alpha")?.packages).toEqual([
      {
        name: "echo-mcp",
        version: "1.0.0",
        integrity: INTEGRITY,
        repository: "github.com/acme/tool",
      },
    ]);
    await gateway.close();
  });

  it("refuses with the store's reason, before any human sees the change", async () => {
    const gateway = await gatewayWith(
      checker([
        ["echo-mcp", { ok: true, attested: true }],
        ["bad-mcp", { ok: false, code: "IC_PACKAGE_PROVENANCE", reason: "it names github.com/mallory/x" }],
      ]),
    );
    const { change, refusal } = await submitPackages(gateway, [pkg("echo-mcp"), pkg("bad-mcp")]);
    expect(change.state).toBe("rejected");
    expect(refusal).toEqual({
      verifier: "package_provenance",
      reason: "bad-mcp@1.0.0: it names github.com/mallory/x (IC_PACKAGE_PROVENANCE)",
    });
    await gateway.close();
  });

  it("refuses a package without provenance unless the change says allowUnattested", async () => {
    const gateway = await gatewayWith(checker([["plain-mcp", { ok: true, attested: false }]]));
    const without = await submitPackages(gateway, [pkg("plain-mcp")]);
    expect(without.refusal?.reason).toContain("has no npm provenance");
    const allowed = await submitPackages(gateway, [pkg("plain-mcp", { allowUnattested: true })]);
    expect(allowed.refusal).toBeUndefined();
    await gateway.approve(OPERATOR, allowed.change.id, { digest: allowed.change.digest });
    expect(agentNamed(gateway.registry, "alpha")?.packages[0]?.allowUnattested).toBe(true);
    // The registry keeps each package as the change named it, so the next change's diff shows only changes.
    expect(agentNamed(gateway.registry, "alpha")?.packages).toEqual(allowed.change.payload.packages);
    await gateway.close();
  });

  it("refuses every package when no registry is configured", async () => {
    const gateway = await gatewayWith(null);
    const { refusal } = await submitPackages(gateway, [pkg("echo-mcp")]);
    expect(refusal).toMatchObject({ verifier: "package_provenance" });
    expect(refusal?.reason).toContain("no package registry configured");
    await gateway.close();
  });

  it("records a checker that throws as a refusal, not a crash", async () => {
    const gateway = await gatewayWith(checker([]));
    const { refusal } = await submitPackages(gateway, [pkg("echo-mcp")]);
    expect(refusal?.reason).toContain("the stand-in has no verdict for echo-mcp");
    expect(refusal?.reason).toContain("IC_PACKAGE_CHECK_FAILED");
    await gateway.close();
  });

  it("never sends a malformed name to the store (Object.prototype's own, invisible Unicode); constructor is just a name", async () => {
    const store = checker([["constructor", { ok: true, attested: true }]]);
    const gateway = await gatewayWith(store);
    for (const name of ["__proto__", "echo\u2060-mcp", "Echo"]) {
      const result = await submitPackages(gateway, [pkg(name)]).catch((e: unknown) => e as { code: string });
      // Invisible text fails the schema (IC_CHANGE_INVALID); the rest is package_form's refusal.
      if ("code" in result) expect(result.code).toBe("IC_CHANGE_INVALID");
      else expect(result.refusal?.verifier).toBe("package_form");
    }
    expect(store.asked).toEqual([]);
    const { refusal } = await submitPackages(gateway, [pkg("constructor")]);
    expect(refusal).toBeUndefined();
    expect(store.asked).toEqual(["constructor"]);
    await gateway.close();
  });

  it("refuses an integrity or repository that is not in npm's and GitHub's form", async () => {
    const gateway = await gatewayWith(checker([]));
    for (const extra of [
      { integrity: "sha1-deadbeef" },
      { integrity: `sha512-${"A".repeat(85)}=` },
      { repository: "https://github.com/acme/tool" },
      { repository: "github.com/acme" },
      { allowUnattested: false },
    ]) {
      await expect(submitPackages(gateway, [pkg("echo-mcp", extra as never)])).rejects.toMatchObject({
        code: "IC_CHANGE_INVALID",
      });
    }
    await gateway.close();
  });

  it("fetches nothing for an agent that does not exist: agent_reference refuses it first", async () => {
    const store = checker([["echo-mcp", { ok: true, attested: true }]]);
    const gateway = await gatewayWith(store);
    const { refusal } = await gateway.submit(OPERATOR, {
      kind: "packages",
      payload: { agent: "ghost", packages: [pkg("echo-mcp")] },
    });
    expect(refusal?.verifier).toBe("agent_reference");
    expect(store.asked).toEqual([]);
    await gateway.close();
  });

  it("checks an agent's own request the same way", async () => {
    const store = checker([["bad-mcp", { ok: false, code: "IC_PACKAGE_INTEGRITY", reason: "tampered" }]]);
    const gateway = await gatewayWith(store);
    const { refusal } = await submitPackages(gateway, [pkg("bad-mcp")], agentPrincipal("alpha"));
    expect(refusal?.verifier).toBe("package_provenance");
    await gateway.close();
  });
});
