import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { alive, descendants, killTree } from "../src/runtime/process-tree.js";

describe("killTree", () => {
  it("kills a process and every descendant, and resolves only once none runs", async () => {
    // A shell with two children, one of them a shell with a child of its own: three descendants.
    const parent = spawn("/bin/sh", ["-c", "sh -c 'sleep 60 & wait' & sleep 60 & wait"], { stdio: "ignore" });
    const pid = parent.pid as number;
    let tree: number[] = [];
    for (let i = 0; i < 100 && tree.length < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      tree = descendants(pid);
    }
    expect(tree.length).toBe(3);
    for (const member of [pid, ...tree]) expect(alive(member)).toBe(true);
    const killed = await killTree(parent);
    expect(killed.sort()).toEqual([pid, ...tree].sort());
    for (const member of killed) expect(alive(member), `pid ${member}`).toBe(false);
  });

  it("counts a pid that does not exist as not alive, and kills nothing for a child that never started", async () => {
    expect(alive(2 ** 22 + 1)).toBe(false);
    const never = spawn("/nonexistent/program", { stdio: "ignore" });
    never.on("error", () => undefined);
    expect(await killTree(never)).toEqual([]);
  });
});
