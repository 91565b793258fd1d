import { describe, expect, it } from "vitest";
import { walkCommands } from "../src/command-tree.js";
import type { CommandIo } from "../src/io.js";
import { ERROR_SCHEMA, run } from "../src/main.js";
import { buildProgram } from "../src/program.js";

function memoryIo(): { io: CommandIo; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const io: CommandIo = {
    stdin: (async function* () {})(),
    stdout: {
      write: (text: string) => {
        out += text;
        return true;
      },
    },
    stderr: {
      write: (text: string) => {
        err += text;
        return true;
      },
    },
    env: {},
    cwd: process.cwd(),
  };
  return { io, out: () => out, err: () => err };
}

const paths = walkCommands(buildProgram({ io: memoryIo().io, setExitCode: () => {} })).map((c) => c.path);

describe("--json on every command", () => {
  it("walks the whole command tree", () => {
    expect(paths).toEqual(
      expect.arrayContaining(["verify", "checksums verify", "sandbox", "sandbox selftest", "audit head"]),
    );
    expect(paths.length).toBeGreaterThan(20);
  });

  it.each(paths)(
    "ironclaw %s --json answers a usage error with one JSON document on stdout",
    async (path) => {
      const { io, out, err } = memoryIo();
      const code = await run([...path.split(" "), "--json", "--no-such-option-anywhere"], io);
      expect(code).toBe(2);
      expect(err()).toBe("");
      const document = JSON.parse(out()) as {
        schema: string;
        ok: boolean;
        exitCode: number;
        error: { code: string; message: string };
      };
      expect(document).toEqual({
        schema: ERROR_SCHEMA,
        ok: false,
        exitCode: 2,
        // A command with a required option reports that first; the rest name the unknown option.
        error: {
          code: "IC_USAGE",
          message: expect.stringMatching(/--no-such-option-anywhere|^required option/),
        },
      });
    },
  );

  it.each(
    paths.filter(
      (path) =>
        !path.includes(" ") &&
        ["checksums", "attestation", "changes", "audit", "agents", "sandbox", "skills"].includes(path),
    ),
  )("ironclaw %s --json without its command says which commands it has, in JSON", async (path) => {
    const { io, out, err } = memoryIo();
    const code = await run([path, "--json"], io);
    if (path === "audit") {
      // audit alone is a command of its own (it reads the log): it fails for want of a log, in JSON.
      expect(JSON.parse(out()).ok).toBe(false);
      return;
    }
    expect(code).toBe(2);
    expect(err()).toBe("");
    expect(JSON.parse(out()).error.message).toMatch(
      new RegExp(`^ironclaw ${path} needs one of its commands: `),
    );
  });

  it("without --json, a usage error stays plain text on stderr", async () => {
    const { io, out, err } = memoryIo();
    expect(await run(["verify", "--dri", "x"], io)).toBe(2);
    expect(out()).toBe("");
    expect(err()).toContain("unknown option '--dri'");
  });
});

describe("ironclaw --help", () => {
  it("lists every command and subcommand with a one-line synopsis", async () => {
    const { io, out } = memoryIo();
    expect(await run(["--help"], io)).toBe(0);
    for (const path of paths) expect(out()).toMatch(new RegExp(`^  ironclaw ${path}\\b.* {2,}\\S`, "m"));
    expect(out()).toMatch(
      /^ {2}ironclaw checksums verify \[names\.\.\.\] +check files against a SHA256SUMS file$/m,
    );
  });
});
