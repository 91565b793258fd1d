import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchSandbox } from "../src/launch.js";
import { openMountSources, type SandboxMount } from "../src/mounts.js";
import type { SandboxSpec, Weakening } from "../src/spec.js";
import { skipRealSandbox } from "./sandbox-gate.js";

// Reports what it can see and do at each path it is given, through the OS alone (no permission model
// in the "namespaces" runs) or as an agent runs (the permission model too).
const ENTRY = `
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
const attempt = (f) => { try { const v = f(); return v === undefined ? "ok" : v; } catch (e) { return e.code ?? e.name; } };
const out = {};
for (const path of JSON.parse(process.argv[2])) {
  out[path] = {
    list: attempt(() => readdirSync(path).sort().join(",")),
    read: attempt(() => readFileSync(path + "/readme.txt", "utf8")),
    readFile: attempt(() => readFileSync(path, "utf8")),
    write: attempt(() => writeFileSync(path + "/written.txt", "from the sandbox")),
  };
}
out.fds = attempt(() => readdirSync("/proc/self/fd").map((fd) => attempt(() => readlinkSync("/proc/self/fd/" + fd))));
console.log(JSON.stringify(out));
`;

let dir = "";
let root = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ironclaw-launch-mounts-"));
  root = join(dir, "root");
  for (const sub of ["app", "workspace", "sockets", "root/docs", "root/scratch", "outside"])
    await mkdir(join(dir, sub), { recursive: true });
  await writeFile(join(dir, "app", "entry.mjs"), ENTRY);
  await writeFile(join(root, "docs", "readme.txt"), "approved docs\n");
  await writeFile(join(root, "one.txt"), "one approved file\n");
  await writeFile(join(dir, "workspace", "readme.txt"), "the agent's notes\n");
  await writeFile(join(dir, "outside", "readme.txt"), "NOT APPROVED\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function spec(
  paths: readonly string[],
  extra: Partial<SandboxSpec> = {},
  weaken: Weakening[] = [],
): SandboxSpec {
  return {
    nodePath: process.execPath,
    runtimeDir: join(dir, "app"),
    entry: "entry.mjs",
    workspaceDir: join(dir, "workspace"),
    socketDir: join(dir, "sockets"),
    mountsRoot: root,
    args: [JSON.stringify(paths)],
    weaken,
    ...extra,
  };
}

type Seen = Record<string, Record<string, string>> & { fds: string[] | string };

async function run(s: SandboxSpec, options: Parameters<typeof launchSandbox>[1] = {}): Promise<Seen> {
  const child = launchSandbox(s, { stdio: ["ignore", "pipe", "pipe"], ...options });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise((resolve) => child.once("close", resolve));
  if (code !== 0) throw new Error(`the sandbox exited ${String(code)}: ${stderr}`);
  return JSON.parse(stdout) as Seen;
}

const docs: SandboxMount = { source: "docs", target: "/mnt/docs", readOnly: true };

describe.skipIf(skipRealSandbox)("mounts in a real sandbox", () => {
  for (const weaken of [[], ["no-permission-model"]] as Weakening[][]) {
    const layer = weaken.length === 0 ? "as agents run" : "the OS layer alone";

    it(`before approval the mount is not there; after, it is, read-only (${layer})`, async () => {
      const before = await run(spec(["/mnt/docs", "/mnt"], {}, weaken));
      expect(before["/mnt/docs"]?.read).toBe(weaken.length === 0 ? "ERR_ACCESS_DENIED" : "ENOENT");
      expect(before["/mnt"]?.list).not.toBe("docs");

      const after = await run(spec(["/mnt/docs", "/mnt"], { mounts: [docs] }, weaken));
      expect(after["/mnt/docs"]?.read).toBe("approved docs\n");
      expect(after["/mnt/docs"]?.write).toBe(weaken.length === 0 ? "ERR_ACCESS_DENIED" : "EROFS");
      expect(await readdir(join(root, "docs"))).toEqual(["readme.txt"]);
    });

    it(`a read-write mount writes through to the host (${layer})`, async () => {
      const seen = await run(
        spec(
          ["/mnt/scratch"],
          { mounts: [{ source: "scratch", target: "/mnt/scratch", readOnly: false }] },
          weaken,
        ),
      );
      expect(seen["/mnt/scratch"]?.write).toBe("ok");
      expect(await readFile(join(root, "scratch", "written.txt"), "utf8")).toBe("from the sandbox");
      await rm(join(root, "scratch", "written.txt"));
    });

    it(`workspace grants: rw writes, ro reads but refuses writes, none shows nothing (${layer})`, async () => {
      const rw = await run(spec(["/workspace"], { workspace: "rw" }, weaken));
      expect(rw["/workspace"]).toMatchObject({ read: "the agent's notes\n", write: "ok" });
      expect(await readFile(join(dir, "workspace", "written.txt"), "utf8")).toBe("from the sandbox");
      await rm(join(dir, "workspace", "written.txt"));

      const ro = await run(spec(["/workspace"], { workspace: "ro" }, weaken));
      expect(ro["/workspace"]).toMatchObject({
        read: "the agent's notes\n",
        write: weaken.length === 0 ? "ERR_ACCESS_DENIED" : "EROFS",
      });
      const none = await run(spec(["/workspace"], { workspace: "none" }, weaken));
      expect(none["/workspace"]).toMatchObject(
        weaken.length === 0
          ? { list: "ERR_ACCESS_DENIED", read: "ERR_ACCESS_DENIED", write: "ERR_ACCESS_DENIED" }
          : { list: "", read: "ENOENT", write: "EROFS" },
      );
      expect(await readdir(join(dir, "workspace"))).toEqual(["readme.txt"]);
    });
  }

  it("binds a single file read-only, and leaves the runtime no descriptor to a mount's source", async () => {
    const seen = await run(
      spec(["/mnt/one.txt"], { mounts: [{ source: "one.txt", target: "/mnt/one.txt", readOnly: true }] }, [
        "no-permission-model",
      ]),
    );
    expect(seen["/mnt/one.txt"]?.readFile).toBe("one approved file\n");
    expect(Array.isArray(seen.fds)).toBe(true);
    // bwrap closes each --bind-fd descriptor once bound; through one the agent could reach the host's
    // (writable) source directly, past the read-only bind.
    for (const target of seen.fds as string[]) expect(target).not.toContain(root);
  });

  it("binds what was checked, not what the name points to by the time bwrap runs (a swap after the check)", async () => {
    await mkdir(join(root, "swapped"));
    await writeFile(join(root, "swapped", "readme.txt"), "checked content\n");
    const mounts: SandboxMount[] = [{ source: "swapped", target: "/mnt/swapped", readOnly: true }];
    const opened = openMountSources(root, mounts);
    // Between the check and the bind: the checked directory moves away, a symlink to a directory
    // outside the root takes its name.
    await rename(join(root, "swapped"), join(root, "moved-away"));
    await symlink(join(dir, "outside"), join(root, "swapped"));
    const seen = await run(spec(["/mnt/swapped"], { mounts }, ["no-permission-model"]), {
      openedMounts: opened,
    });
    expect(seen["/mnt/swapped"]?.read).toBe("checked content\n");
    // A fresh launch checks again, and refuses the symlink now there.
    expect(() => launchSandbox(spec(["/mnt/swapped"], { mounts }))).toThrow(
      expect.objectContaining({ code: "IC_SANDBOX_MOUNT_SOURCE" }) as Error,
    );
  });

  it("refuses to start with a mount whose source escapes the root, or whose target is the agent socket", async () => {
    await symlink("/etc", join(root, "etc-link"));
    expect(() =>
      launchSandbox(spec([], { mounts: [{ source: "etc-link", target: "/mnt/etc", readOnly: true }] })),
    ).toThrow(expect.objectContaining({ code: "IC_SANDBOX_MOUNT_SOURCE" }) as Error);
    expect(() =>
      launchSandbox(
        spec([], { mounts: [{ source: "docs", target: "/run/ironclaw/agent.sock", readOnly: true }] }),
      ),
    ).toThrow(expect.objectContaining({ code: "IC_SANDBOX_MOUNT_TARGET" }) as Error);
    expect(() =>
      launchSandbox(spec([], { mounts: [{ source: "docs", target: "/proc", readOnly: true }] })),
    ).toThrow(expect.objectContaining({ code: "IC_SANDBOX_MOUNT_TARGET" }) as Error);
  });
});
