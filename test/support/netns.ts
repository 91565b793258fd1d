import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { haveSystemTools, REQUIRE_ENV, recordSkip } from "./system-tools.js";

/**
 * A network namespace of the test's own, in which public names resolve (through `ip netns exec`'s
 * /etc/netns/<name>/hosts) to public addresses held on the namespace's loopback: a real TLS server at
 * the address of example.com, reached by real DNS-free resolution and real routing, without the
 * Internet. Needs root and iproute2.
 */
export class NetNamespace {
  private constructor(readonly name: string) {}

  static create(hosts: Readonly<Record<string, string>>): NetNamespace {
    const name = `ironclaw-test-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
    execFileSync("ip", ["netns", "add", name]);
    const ns = new NetNamespace(name);
    try {
      mkdirSync(`/etc/netns/${name}`, { recursive: true });
      const lines = [
        "127.0.0.1 localhost",
        "::1 localhost",
        ...Object.entries(hosts).map(([h, a]) => `${a} ${h}`),
      ];
      writeFileSync(`/etc/netns/${name}/hosts`, `${lines.join("\n")}\n`);
      ns.run("ip", ["link", "set", "lo", "up"]);
      for (const address of new Set(Object.values(hosts)))
        ns.run("ip", ["addr", "add", `${address}/32`, "dev", "lo"]);
    } catch (error) {
      ns.close();
      throw error;
    }
    return ns;
  }

  /** Runs a command in the namespace to its end; its output. */
  run(
    command: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
  ): string {
    return execFileSync("ip", ["netns", "exec", this.name, command, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      ...options,
    });
  }

  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    return spawn("ip", ["netns", "exec", this.name, command, ...args], options);
  }

  close(): void {
    try {
      execFileSync("ip", ["netns", "del", this.name], { stdio: "ignore" });
    } catch {
      // Already gone.
    }
    rmSync(`/etc/netns/${this.name}`, { recursive: true, force: true });
  }
}

/**
 * Whether this machine can make one: root and iproute2. Elsewhere the suite is skipped with a line in
 * the summary, and in CI it fails.
 */
export function canMakeNetNamespaces(suite: string): boolean {
  if (!haveSystemTools(suite, ["ip"])) return false;
  if (process.getuid?.() === 0) return true;
  if (process.env.CI !== undefined || process.env[REQUIRE_ENV] === "1")
    throw new Error(`${suite} needs root to make a network namespace, and this run requires every suite`);
  recordSkip({ suite, missing: [], packages: [], reason: "needs root to make a network namespace" });
  return false;
}
