import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vi } from "vitest";
import type { InputName } from "../src/inputs.js";
import { run } from "../src/run.js";

/** What a run of the Action left behind, as a runner would see it. */
export interface ActionRun {
  /** What reached stdout: the log, and the workflow commands (annotations) the runner parses. */
  readonly stdout: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
  readonly exitCode: number | undefined;
}

export type ActionInputValues = Partial<Record<InputName, string>>;

/** Environment variables a runner sets that the Action (through @actions/core) reads. */
const RUNNER_FILES = ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_STATE", "GITHUB_PATH"];

/** INPUT_<NAME>: upper case, spaces to underscores, hyphens kept, as the runner and core.getInput spell it. */
export const inputVariable = (name: string) => `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;

export function inputEnvironment(inputs: ActionInputValues): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).map(([name, value]) => [inputVariable(name), value]));
}

/** `name<<DELIMITER\nvalue\nDELIMITER` records, as core.setOutput appends them to $GITHUB_OUTPUT. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const record = /^([^\n<]+)<<(ghadelimiter_[0-9a-f-]+)\n([\s\S]*?)\n\2$/gm;
  let consumed = 0;
  for (const match of text.matchAll(record)) {
    const [whole, name = "", , value = ""] = match;
    if (name in outputs) throw new Error(`output ${name} was set twice`);
    outputs[name] = value;
    consumed += whole.length + 1;
  }
  if (consumed !== text.length) throw new Error(`unparsed output records in ${JSON.stringify(text)}`);
  return outputs;
}

export interface SummaryRow {
  readonly file: string;
  readonly check: string;
  readonly result: string;
  readonly detail: string;
}

/** The entities escapeHtml writes, back to text (any other `&` would be a bug the tests should see). */
function unescapeHtml(html: string): string {
  const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" };
  return html.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => entities[name] ?? "");
}

/** The rows of the job summary's table (core.summary.addTable's HTML), as text. */
export function summaryRows(summary: string): SummaryRow[] {
  const row = /<tr><td><code>(.*?)<\/code><\/td><td>(.*?)<\/td><td>(.*?)<\/td><td>(.*?)<\/td><\/tr>/g;
  return [...summary.matchAll(row)].map(([, file = "", check = "", result = "", detail = ""]) => ({
    file: unescapeHtml(file),
    check: unescapeHtml(check),
    result: unescapeHtml(result),
    detail: unescapeHtml(detail),
  }));
}

/**
 * A temporary directory for the runner's files, made on first use. @actions/core remembers the first
 * job-summary path it is given for the life of the process, as it would in a runner, so a test file
 * keeps one summary file and runAction empties it before each run.
 */
let runnerDir: string | undefined;
function runnerFiles(): { summaryFile: string; outputFile: string } {
  runnerDir ??= mkdtempSync(join(tmpdir(), "ironclaw-action-runner-"));
  return { summaryFile: join(runnerDir, "step_summary.md"), outputFile: join(runnerDir, "output.txt") };
}

export function removeRunnerFiles(): void {
  if (runnerDir !== undefined) rmSync(runnerDir, { recursive: true, force: true });
  runnerDir = undefined;
}

/**
 * Calls run() in this process as a runner would start the Action: inputs as INPUT_* variables and
 * temporary output and summary files, with nothing of the real environment's INPUT_* or GITHUB_*
 * files (these tests may themselves run inside GitHub Actions). stdout is captured, not passed on,
 * so the annotations the Action writes do not become annotations of the CI run. process.exitCode,
 * which core.setFailed sets, is read and put back.
 */
export async function runAction(inputs: ActionInputValues): Promise<ActionRun> {
  const { summaryFile, outputFile } = runnerFiles();
  writeFileSync(summaryFile, "");
  writeFileSync(outputFile, "");
  const saved = { ...process.env };
  for (const key of Object.keys(process.env)) {
    if (key.startsWith("INPUT_") || RUNNER_FILES.includes(key)) delete process.env[key];
  }
  Object.assign(process.env, inputEnvironment(inputs), {
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
  });
  const exitCodeBefore = process.exitCode;
  process.exitCode = undefined;
  let stdout = "";
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  });
  let exitCode: number | undefined;
  try {
    await run();
  } finally {
    write.mockRestore();
    exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode);
    process.exitCode = exitCodeBefore;
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
  return {
    stdout,
    outputs: parseOutputs(readFileSync(outputFile, "utf8")),
    summary: readFileSync(summaryFile, "utf8"),
    exitCode,
  };
}

/** The `::error` workflow commands on stdout, with their title and message decoded. */
export function errorAnnotations(stdout: string): { title: string; message: string }[] {
  const decode = (text: string) =>
    text
      .replace(/%0D/g, "\r")
      .replace(/%0A/g, "\n")
      .replace(/%3A/g, ":")
      .replace(/%2C/g, ",")
      .replace(/%25/g, "%");
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("::error"))
    .map((line) => {
      const match = /^::error(?: title=([^:]*))?::(.*)$/.exec(line);
      if (match === null) throw new Error(`not an error command: ${line}`);
      return { title: decode(match[1] ?? ""), message: decode(match[2] ?? "") };
    });
}
