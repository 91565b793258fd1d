import { execFileSync } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SandboxError } from "../src/errors.js";
import { checkMounts, checkMountTarget, openMountSources, type SandboxMount } from "../src/mounts.js";

const code = (c: string) => expect.objectContaining({ code: c }) as SandboxError;
const ro = (source: string, target = "/mnt/m"): SandboxMount => ({ source, target, readOnly: true });

describe("checkMountTarget", () => {
  it("takes a plain path under /mnt/, Object.prototype names included", () => {
    for (const target of [
      "/mnt/data",
      "/mnt/a/b-c_d.e",
      "/mnt/constructor",
      "/mnt/__proto__",
      "/mnt/toString",
    ])
      expect(() => checkMountTarget(target), target).not.toThrow();
  });

  const refused: [string, string][] = [
    ["the root", "/"],
    ["/mnt itself", "/mnt"],
    ["/proc", "/proc"],
    ["under /proc", "/proc/self/root"],
    ["the agent socket", "/run/ironclaw/agent.sock"],
    ["/run", "/run"],
    ["the workspace", "/workspace"],
    ["under the workspace", "/workspace/x"],
    ["the runtime", "/runtime/app"],
    ["/dev", "/dev/shm"],
    ["/tmp", "/tmp/x"],
    ["/etc", "/etc"],
    ["/sys", "/sys/fs"],
    ["a relative path", "mnt/data"],
    ["a .. segment", "/mnt/../proc"],
    ["a .. segment that stays under /mnt", "/mnt/a/../b"],
    ["a . segment", "/mnt/./data"],
    ["a double slash", "/mnt//data"],
    ["a trailing slash", "/mnt/data/"],
    ["a zero-width space", "/mnt/data\u200b"],
    ["a right-to-left override", "/mnt/\u202eatad"],
    ["a Unicode tag", "/mnt/data\u{E0041}"],
    ["a NUL", "/mnt/data\0"],
    ["a newline", "/mnt/da\nta"],
    ["a space", "/mnt/my data"],
    ["a non-ASCII letter", "/mnt/dаta"],
    ["outside /mnt", "/opt/data"],
    ["a too long path", `/mnt/${"a/".repeat(200)}a`],
  ];
  for (const [name, target] of refused)
    it(`refuses ${name}`, () => {
      expect(() => checkMountTarget(target)).toThrow(code("IC_SANDBOX_MOUNT_TARGET"));
    });

  it("says what it expected and what it found", () => {
    expect(() => checkMountTarget("/run/ironclaw/agent.sock")).toThrow(
      /"\/run\/ironclaw\/agent\.sock".*covers the sandbox's own \/run.*expected a normalized path under \/mnt\//,
    );
  });
});

describe("checkMounts", () => {
  it("refuses a target inside another, or twice the same", () => {
    expect(() => checkMounts([ro("a", "/mnt/a"), ro("b", "/mnt/a/b")])).toThrow(
      code("IC_SANDBOX_MOUNT_TARGET"),
    );
    expect(() => checkMounts([ro("a", "/mnt/a/b"), ro("b", "/mnt/a")])).toThrow(
      code("IC_SANDBOX_MOUNT_TARGET"),
    );
    expect(() => checkMounts([ro("a", "/mnt/a"), ro("b", "/mnt/a")])).toThrow(
      code("IC_SANDBOX_MOUNT_TARGET"),
    );
    expect(() => checkMounts([ro("a", "/mnt/a"), ro("b", "/mnt/ab")])).not.toThrow();
  });

  it("refuses sources that are not plain relative paths", () => {
    for (const source of [
      "/etc",
      "../etc",
      "a/../../etc",
      "a//b",
      "./a",
      "a/.",
      "a\\b",
      "a\u200b",
      "",
      "a\0",
    ])
      expect(() => checkMounts([ro(source)]), JSON.stringify(source)).toThrow(
        code("IC_SANDBOX_MOUNT_SOURCE"),
      );
  });

  it("refuses more than 16 mounts and a readOnly that is not a boolean", () => {
    const many = Array.from({ length: 17 }, (_, i) => ro(`s${i}`, `/mnt/m${i}`));
    expect(() => checkMounts(many)).toThrow(code("IC_SANDBOX_INVALID_SPEC"));
    expect(() =>
      checkMounts([{ source: "a", target: "/mnt/a", readOnly: "no" as unknown as boolean }]),
    ).toThrow(code("IC_SANDBOX_INVALID_SPEC"));
  });
});

describe("openMountSources (the host's tree, checked at launch)", () => {
  let dir = "";
  let root = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ironclaw-mounts-test-"));
    root = join(dir, "root");
    await mkdir(join(root, "docs", "sub"), { recursive: true });
    await writeFile(join(root, "docs", "readme.txt"), "approved\n");
    await writeFile(join(root, "file.txt"), "one file\n");
    await writeFile(join(root, "__proto__"), "a file named __proto__\n");
    await mkdir(join(dir, "outside"));
    await writeFile(join(dir, "outside", "secret.txt"), "not approved\n");
    await symlink("/etc", join(root, "to-etc"));
    await symlink("/dev/zero", join(root, "to-zero"));
    await symlink("../outside", join(root, "to-outside"));
    await symlink("docs", join(root, "to-docs"));
    await symlink("..", join(root, "up"));
    await symlink("to-loop", join(root, "to-loop"));
    execFileSync("mkfifo", [join(root, "fifo")]);
    await writeFile(join(dir, "outside", "linked.txt"), "a second name outside\n");
    await link(join(dir, "outside", "linked.txt"), join(root, "hardlink.txt"));
    // The mounts root itself through a symlink: resolved once, to its real path.
    await symlink("root", join(dir, "root-link"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const realOf = (fd: number) => readlinkSync(`/proc/self/fd/${fd}`);

  it("opens a directory and a file under the root, and a symlink that stays inside", () => {
    const opened = openMountSources(join(dir, "root-link"), [
      ro("docs", "/mnt/docs"),
      ro("file.txt", "/mnt/file"),
      ro("to-docs", "/mnt/again"),
      ro("__proto__", "/mnt/constructor"),
    ]);
    try {
      expect(opened.fds.map(realOf)).toEqual([
        join(root, "docs"),
        join(root, "file.txt"),
        join(root, "docs"),
        join(root, "__proto__"),
      ]);
    } finally {
      opened.close();
    }
    // Closed: the descriptors are gone.
    for (const fd of opened.fds) expect(() => realOf(fd)).toThrow();
  });

  const attacks: [string, string, RegExp][] = [
    ["a symlink to /etc", "to-etc", /resolves to \/etc, outside the mounts root/],
    ["a symlink to /dev/zero", "to-zero", /resolves to \/dev\/zero, outside the mounts root/],
    ["a symlink out of the root", "to-outside", /outside the mounts root/],
    ["a symlink loop", "to-loop", /cannot be opened.*ELOOP/],
    ["a symlink to the root's parent", "up", /outside the mounts root/],
    [
      "a path through a symlinked directory out of the root",
      "to-outside/secret.txt",
      /outside the mounts root/,
    ],
    ["a FIFO", "fifo", /neither a regular file nor a directory/],
    ["a file with a second name outside the root", "hardlink.txt", /2 hard links/],
    ["a source that does not exist", "missing", /cannot be opened.*ENOENT/],
    ["a .. escape", "docs/../../outside", /plain relative path/],
  ];
  for (const [name, source, message] of attacks)
    it(`refuses ${name}, and leaves no descriptor open`, () => {
      let error: unknown;
      try {
        openMountSources(root, [ro("docs", "/mnt/docs"), ro(source, "/mnt/attack")]);
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ code: "IC_SANDBOX_MOUNT_SOURCE" });
      expect((error as Error).message).toMatch(message);
      // The one opened before the refusal ("docs") is closed again.
      expect(fdsInto(root)).toEqual([]);
    });

  it("refuses a mounts root that does not exist", () => {
    expect(() => openMountSources(join(dir, "nowhere"), [ro("docs")])).toThrow(
      code("IC_SANDBOX_MOUNT_SOURCE"),
    );
  });
});

/** This process's descriptors that reach under dir. */
function fdsInto(dir: string): string[] {
  return readdirSync("/proc/self/fd")
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return "";
      }
    })
    .filter((target) => target.startsWith(dir));
}
