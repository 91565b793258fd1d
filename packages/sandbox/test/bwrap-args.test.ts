import { describe, expect, it } from "vitest";
import { bwrapArgs, HOST_ROOT_DIRS } from "../src/bwrap-args.js";
import type { SandboxError } from "../src/errors.js";
import type { SandboxSpec } from "../src/spec.js";
import { binds, parseBwrap } from "./bwrap-ops.js";

const LIBS = [
  "/lib/x86_64-linux-gnu/libdl.so.2",
  "/lib/x86_64-linux-gnu/libstdc++.so.6",
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/lib64/ld-linux-x86-64.so.2",
];

function agent(name: string, extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    nodePath: "/opt/node/bin/node",
    runtimeDir: "/srv/ironclaw/runtime",
    entry: "agent.mjs",
    workspaceDir: `/var/lib/ironclaw/workspaces/${name}`,
    socketDir: `/run/ironclaw-host/${name}`,
    args: ["--agent", name],
    env: { IRONCLAW_AGENT: name },
    ...extra,
  };
}

const NODE_20 = { nodeVersion: "20.20.2" };

describe("bwrapArgs", () => {
  it("has every namespace, lifetime and privilege flag", () => {
    const { ops } = parseBwrap(bwrapArgs(agent("a"), LIBS, NODE_20));
    const names = ops.map((op) => op.name);
    for (const flag of [
      "--unshare-all",
      "--unshare-user",
      "--disable-userns",
      "--assert-userns-disabled",
      "--die-with-parent",
      "--new-session",
      "--as-pid-1",
      "--clearenv",
    ])
      expect(names, flag).toContain(flag);
    expect(ops).toContainEqual({ name: "--cap-drop", operands: ["ALL"] });
    expect(names).not.toContain("--share-net");
    expect(names).not.toContain("--cap-add");
  });

  it("builds a read-only root of the runtime, its libraries and the four mounts, and nothing else", () => {
    const args = bwrapArgs(agent("a"), LIBS, NODE_20);
    const { ops } = parseBwrap(args);
    expect(ops.find((op) => ["--tmpfs", "--bind", "--ro-bind"].includes(op.name))).toEqual({
      name: "--tmpfs",
      operands: ["/"],
    });
    expect(binds(args)).toEqual([
      ["--ro-bind", "/opt/node/bin/node", "/runtime/node"],
      ...LIBS.map((lib) => ["--ro-bind", lib, lib]),
      ["--ro-bind", "/srv/ironclaw/runtime", "/runtime/app"],
      ["--bind", "/var/lib/ironclaw/workspaces/a", "/workspace"],
      ["--ro-bind", "/run/ironclaw-host/a", "/run/ironclaw"],
    ]);
    expect(ops).toContainEqual({ name: "--tmpfs", operands: ["/tmp"] });
    expect(ops).toContainEqual({ name: "--proc", operands: ["/proc"] });
    expect(ops).toContainEqual({ name: "--dev", operands: ["/dev"] });
    expect(ops).toContainEqual({ name: "--remount-ro", operands: ["/dev"] });
    // The root goes read-only after every mount is in place.
    const mounts = ops.filter((op) =>
      ["--tmpfs", "--bind", "--ro-bind", "--proc", "--dev"].includes(op.name),
    );
    const last = ops.lastIndexOf(mounts[mounts.length - 1] as (typeof ops)[number]);
    const remountRoot = ops.findIndex((op) => op.name === "--remount-ro" && op.operands[0] === "/");
    expect(remountRoot).toBeGreaterThan(last);
  });

  it("binds nothing at /bin, /sbin, /usr or /etc, and never the host's root", () => {
    for (const [, source, destination] of binds(bwrapArgs(agent("a"), LIBS, NODE_20))) {
      expect(source).not.toBe("/");
      for (const dir of ["/bin", "/sbin", "/usr", "/etc"]) {
        expect(destination === dir || destination.startsWith(`${dir}/`), `${destination} under ${dir}`).toBe(
          false,
        );
      }
    }
  });

  it("runs the entry under the permission model with only the app, workspace and /tmp granted", () => {
    const { command } = parseBwrap(bwrapArgs(agent("a"), LIBS, NODE_20));
    expect(command).toEqual([
      "/runtime/node",
      "--disable-warning=ExperimentalWarning",
      "--experimental-permission",
      "--allow-fs-read=/runtime/app/*",
      "--allow-fs-read=/workspace/*",
      "--allow-fs-read=/tmp/*",
      "--allow-fs-write=/workspace/*",
      "--allow-fs-write=/tmp/*",
      "--disallow-code-generation-from-strings",
      "/runtime/app/agent.mjs",
      "--agent",
      "a",
    ]);
    for (const flag of command) expect(flag).not.toMatch(/^--allow-(child-process|worker|addons|wasi)/);
  });

  it("names the permission flag as the node version does", () => {
    const flagFor = (nodeVersion: string) => parseBwrap(bwrapArgs(agent("a"), LIBS, { nodeVersion })).command;
    expect(flagFor("20.17.0")).toContain("--experimental-permission");
    expect(flagFor("22.12.0")).toContain("--experimental-permission");
    expect(flagFor("22.13.0")).toContain("--permission");
    expect(flagFor("23.4.0")).toContain("--experimental-permission");
    expect(flagFor("23.5.0")).toContain("--permission");
    expect(flagFor("24.1.0")).toEqual(expect.arrayContaining(["--permission"]));
    expect(flagFor("24.1.0")).not.toContain("--disable-warning=ExperimentalWarning");
  });

  it("sets exactly spec.env, after clearing the environment", () => {
    const { ops } = parseBwrap(bwrapArgs(agent("a", { env: { A: "1", B: "two words" } }), LIBS, NODE_20));
    const clear = ops.findIndex((op) => op.name === "--clearenv");
    const sets = ops.filter((op) => op.name === "--setenv");
    expect(sets).toEqual([
      { name: "--setenv", operands: ["A", "1"] },
      { name: "--setenv", operands: ["B", "two words"] },
    ]);
    expect(ops.findIndex((op) => op.name === "--setenv")).toBeGreaterThan(clear);
    expect(
      parseBwrap(bwrapArgs(agent("a", { env: {} }), LIBS, NODE_20)).ops.some((op) => op.name === "--setenv"),
    ).toBe(false);
  });

  it("never shows agent A's workspace or sockets to agent B", () => {
    const a = agent("a");
    const args = bwrapArgs(agent("b"), LIBS, NODE_20);
    for (const arg of args) {
      expect(arg.includes(a.workspaceDir)).toBe(false);
      expect(arg.includes(a.socketDir)).toBe(false);
    }
    expect(binds(args)).toContainEqual(["--bind", "/var/lib/ironclaw/workspaces/b", "/workspace"]);
  });

  it("applies the memory limit to V8's heap and the /tmp tmpfs", () => {
    const args = bwrapArgs(agent("a", { limits: { memoryBytes: 512 * 1024 * 1024 } }), LIBS, NODE_20);
    const { ops, command } = parseBwrap(args);
    const size = ops.findIndex((op) => op.name === "--size");
    expect(ops[size]?.operands).toEqual([String(512 * 1024 * 1024)]);
    expect(ops[size + 1]).toEqual({ name: "--tmpfs", operands: ["/tmp"] });
    expect(command).toContain("--max-old-space-size=384");
  });

  it("reads a seccomp filter only when given its descriptor", () => {
    expect(bwrapArgs(agent("a"), LIBS, NODE_20)).not.toContain("--seccomp");
    expect(parseBwrap(bwrapArgs(agent("a"), LIBS, { ...NODE_20, seccompFd: 3 })).ops).toContainEqual({
      name: "--seccomp",
      operands: ["3"],
    });
  });

  describe("weaken", () => {
    const base = bwrapArgs(agent("a"), LIBS, NODE_20);

    it("share-net adds --share-net and nothing else", () => {
      const weak = bwrapArgs(agent("a", { weaken: ["share-net"] }), LIBS, NODE_20);
      expect(weak.filter((arg) => arg !== "--share-net")).toEqual(base);
      expect(weak.filter((arg) => arg === "--share-net")).toHaveLength(1);
    });

    it("no-permission-model drops exactly the runtime's permission and code-generation flags", () => {
      const weak = bwrapArgs(agent("a", { weaken: ["no-permission-model"] }), LIBS, NODE_20);
      const removed = base.filter((arg) => !weak.includes(arg));
      expect(removed).toEqual([
        "--disable-warning=ExperimentalWarning",
        "--experimental-permission",
        "--allow-fs-read=/runtime/app/*",
        "--allow-fs-read=/workspace/*",
        "--allow-fs-read=/tmp/*",
        "--allow-fs-write=/workspace/*",
        "--allow-fs-write=/tmp/*",
        "--disallow-code-generation-from-strings",
      ]);
      expect(weak.filter((arg) => !base.includes(arg))).toEqual([]);
    });

    it("host-root swaps the library binds for the host's system directories, read-only", () => {
      const weak = bwrapArgs(agent("a", { weaken: ["host-root"] }), LIBS, NODE_20);
      const libraryBinds = binds(base).filter(([, source]) => LIBS.includes(source));
      expect(binds(weak).filter(([, source]) => LIBS.includes(source))).toEqual([]);
      expect(binds(weak).filter(([name]) => name === "--ro-bind-try")).toEqual(
        HOST_ROOT_DIRS.map((dir) => ["--ro-bind-try", dir, dir]),
      );
      const rest = (args: string[], drop: readonly (readonly [string, string, string])[]) =>
        binds(args).filter((bind) => !drop.some((other) => other.join() === bind.join()));
      expect(
        rest(
          weak,
          binds(weak).filter(([name]) => name === "--ro-bind-try"),
        ),
      ).toEqual(rest(base, libraryBinds));
      expect(parseBwrap(weak).command).toEqual(parseBwrap(base).command);
    });
  });

  describe("workspace modes", () => {
    const workspaceOps = (mode: "rw" | "ro" | "none") =>
      parseBwrap(bwrapArgs(agent("a", { workspace: mode }), LIBS, NODE_20)).ops.filter((op) =>
        op.operands.includes("/workspace"),
      );

    it("binds the workspace read-write for rw, read-only for ro, and an empty directory of the root for none", () => {
      expect(workspaceOps("rw")).toEqual([
        { name: "--bind", operands: ["/var/lib/ironclaw/workspaces/a", "/workspace"] },
        { name: "--chdir", operands: ["/workspace"] },
      ]);
      expect(workspaceOps("ro")).toEqual([
        { name: "--ro-bind", operands: ["/var/lib/ironclaw/workspaces/a", "/workspace"] },
        { name: "--chdir", operands: ["/workspace"] },
      ]);
      expect(workspaceOps("none")).toEqual([
        { name: "--dir", operands: ["/workspace"] },
        { name: "--chdir", operands: ["/workspace"] },
      ]);
      // With no grant, nothing names the host's workspace at all.
      expect(bwrapArgs(agent("a", { workspace: "none" }), LIBS, NODE_20).join("\n")).not.toContain(
        "/var/lib/ironclaw/workspaces/a",
      );
    });

    it("grants the runtime the workspace as the mode says, and nothing more", () => {
      const command = (mode: "rw" | "ro" | "none") =>
        parseBwrap(bwrapArgs(agent("a", { workspace: mode }), LIBS, NODE_20)).command.filter((f) =>
          f.includes("/workspace"),
        );
      expect(command("rw")).toEqual(["--allow-fs-read=/workspace/*", "--allow-fs-write=/workspace/*"]);
      expect(command("ro")).toEqual(["--allow-fs-read=/workspace/*"]);
      expect(command("none")).toEqual([]);
    });
  });

  describe("mounts", () => {
    const mounts = {
      mountsRoot: "/srv/mounts",
      mounts: [
        { source: "shared/docs", target: "/mnt/docs", readOnly: true },
        { source: "scratch", target: "/mnt/scratch", readOnly: false },
      ],
    };

    it("binds each mount from its descriptor, read-only unless approved otherwise, before the root goes read-only", () => {
      const args = bwrapArgs(agent("a", mounts), LIBS, { ...NODE_20, mountFds: [4, 5] });
      const { ops, command } = parseBwrap(args);
      expect(ops.filter((op) => op.name.endsWith("-bind-fd"))).toEqual([
        { name: "--ro-bind-fd", operands: ["4", "/mnt/docs"] },
        { name: "--bind-fd", operands: ["5", "/mnt/scratch"] },
      ]);
      // Never by name: the source's path appears nowhere on the command line.
      expect(args.some((arg) => arg.includes("shared/docs") || arg.includes("/srv/mounts"))).toBe(false);
      const remountRoot = ops.findIndex((op) => op.name === "--remount-ro" && op.operands[0] === "/");
      expect(ops.findIndex((op) => op.name === "--bind-fd")).toBeLessThan(remountRoot);
      expect(command.filter((flag) => flag.includes("/mnt/"))).toEqual([
        "--allow-fs-read=/mnt/docs",
        "--allow-fs-read=/mnt/scratch",
        "--allow-fs-write=/mnt/scratch",
      ]);
    });

    it("refuses mounts without one descriptor per mount", () => {
      for (const mountFds of [undefined, [4], [4, 5, 6], [4, 2]])
        expect(() =>
          bwrapArgs(agent("a", mounts), LIBS, { ...NODE_20, ...(mountFds ? { mountFds } : {}) }),
        ).toThrow(expect.objectContaining({ code: "IC_SANDBOX_INVALID_SPEC" }) as SandboxError);
    });

    it("refuses mounts without a mounts root", () => {
      expect(() =>
        bwrapArgs(agent("a", { mounts: mounts.mounts }), LIBS, { ...NODE_20, mountFds: [4, 5] }),
      ).toThrow(expect.objectContaining({ code: "IC_SANDBOX_INVALID_SPEC" }) as SandboxError);
    });

    it("mounts-rw (test only) binds a read-only mount read-write, and changes nothing else", () => {
      const base = bwrapArgs(agent("a", mounts), LIBS, { ...NODE_20, mountFds: [4, 5] });
      const weak = bwrapArgs(agent("a", { ...mounts, weaken: ["mounts-rw"] }), LIBS, {
        ...NODE_20,
        mountFds: [4, 5],
      });
      expect(weak.map((arg) => (arg === "--bind-fd" ? "--ro-bind-fd" : arg))).toEqual(
        base.map((arg) => (arg === "--bind-fd" ? "--ro-bind-fd" : arg)),
      );
      expect(parseBwrap(weak).ops.filter((op) => op.name === "--ro-bind-fd")).toEqual([]);
    });
  });

  it("runs an entry in a subdirectory of the runtime dir, as a package's bin may be", () => {
    const args = bwrapArgs(agent("a", { entry: "dist/cli.js" }), LIBS, NODE_20);
    expect(args.slice(args.indexOf("--") + 1)).toContain("/runtime/app/dist/cli.js");
  });

  describe("refuses a spec that would not mean what it says", () => {
    const cases: [string, Partial<SandboxSpec>][] = [
      ["a relative workspace", { workspaceDir: "workspaces/a" }],
      ["a workspace spelled with ..", { workspaceDir: "/var/lib/ironclaw/workspaces/a/../b" }],
      ["the host's root as workspace", { workspaceDir: "/" }],
      ["an entry outside the runtime dir", { entry: "../agent.mjs" }],
      ["an entry whose path climbs out", { entry: "lib/../../agent.mjs" }],
      ["an absolute entry", { entry: "/lib/agent.mjs" }],
      ["an entry with an empty segment", { entry: "lib//agent.mjs" }],
      ["an entry ending in a dot segment", { entry: "lib/." }],
      ["NODE_OPTIONS", { env: { NODE_OPTIONS: "--allow-child-process" } }],
      ["LD_PRELOAD", { env: { LD_PRELOAD: "/workspace/x.so" } }],
      ["a NUL in an argument", { args: ["a\0b"] }],
      ["a zero limit", { limits: { processes: 0 } }],
      ["an unknown weakening", { weaken: ["no-seccomp" as "share-net"] }],
      ["an unknown workspace mode", { workspace: "rwx" as "rw" }],
      ["a relative mounts root", { mountsRoot: "mounts", mounts: [] }],
    ];
    for (const [name, extra] of cases) {
      it(name, () => {
        expect(() => bwrapArgs(agent("a", extra), LIBS, NODE_20)).toThrow(
          expect.objectContaining({ code: "IC_SANDBOX_INVALID_SPEC" }) as SandboxError,
        );
      });
    }
  });
});
