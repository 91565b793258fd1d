import { spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, spawnCli, temporaryDirectory } from "./helpers.js";

const version = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

describe("the ironclaw executable", () => {
  const cwd = temporaryDirectory("ironclaw-cli-bin-").path;

  it("prints its version", () => {
    expect(spawnCli(["--version"], cwd)).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("prints its version into a file, and exits 0 without a word when standard output is closed", () => {
    // --version writes to descriptor 1 itself, not through process.stdout: both ends of that path.
    const file = join(cwd, "version.txt");
    const fd = openSync(file, "w");
    const intoFile = spawnSync(process.execPath, [BIN, "--version"], { cwd, stdio: ["ignore", fd, "pipe"] });
    closeSync(fd);
    expect(intoFile.status).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(`${version}\n`);
    const closed = spawnSync("sh", ["-c", `exec "$0" "$1" --version >&-`, process.execPath, BIN], {
      cwd,
      encoding: "utf8",
    });
    expect({ code: closed.status, stderr: closed.stderr }).toEqual({ code: 0, stderr: "" });
  });

  it("lists its commands and the exit codes in --help", () => {
    const help = spawnCli(["--help"], cwd);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: ironclaw /);
    expect(help.stdout).toContain("checksums");
    expect(help.stdout).toContain("Exit codes");
    const sub = spawnCli(["checksums", "verify", "--help"], cwd);
    expect(sub.stdout).toContain("--ignore-missing");
    expect(sub.stdout).toContain("Examples:");
  });

  it("exits 2 on an unknown command or option", () => {
    const command = spawnCli(["frobnicate"], cwd);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command");
    const option = spawnCli(["checksums", "verify", "--no-such-flag"], cwd);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option");
  });

  it("runs a real verification end to end", () => {
    const result = spawnCli(["checksums", "verify", "--dir", cwd], cwd);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("IC_FILE_MISSING");
    expect(BIN).toMatch(/bin[/\\]ironclaw\.js$/);
  });
});
