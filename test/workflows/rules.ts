import { parse } from "yaml";

/** Write scopes a job may ask for; everything else stays at the top level's read-only default. */
const ALLOWED_WRITE_SCOPES = new Set(["id-token", "attestations", "contents"]);
const PINNED_USES =
  /^\s*(?:-\s+)?uses:\s+([\w.-]+\/[\w.-]+(?:\/[\w./-]+)?)@([0-9a-f]{40})\s+#\s+v\d+(?:\.\d+){0,2}\s*$/;

type Json = Record<string, unknown>;

function asRecord(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

/**
 * The project's rules for GitHub workflows (RELEASE.md, "The pipeline"). Returns every violation as
 * "<file>: <what>"; an empty list means the workflow follows them all.
 */
export function workflowViolations(file: string, text: string): string[] {
  const violations: string[] = [];
  const say = (message: string) => violations.push(`${file}: ${message}`);

  // Pinning is checked on the raw lines: the version comment is not part of the parsed YAML.
  for (const [index, line] of text.split("\n").entries()) {
    if (!/^\s*(?:-\s+)?uses:/.test(line)) continue;
    if (/uses:\s+\.\//.test(line)) continue; // A local action, versioned with this repository.
    if (!PINNED_USES.test(line))
      say(`line ${index + 1}: "${line.trim()}" is not pinned by a full commit SHA with a "# vX.Y.Z" comment`);
  }

  const workflow = asRecord(parse(text));
  const on = workflow.on ?? workflow[true as unknown as string];
  const triggers = typeof on === "string" ? [on] : Array.isArray(on) ? on : Object.keys(asRecord(on));
  if (triggers.includes("pull_request_target"))
    say("uses pull_request_target, which runs with secrets on code from forks");

  const permissions = workflow.permissions;
  if (permissions === undefined) say("has no top-level permissions; they must be set, read-only");
  else if (
    typeof permissions === "string" ||
    Object.values(asRecord(permissions)).some((level) => level !== "read" && level !== "none")
  ) {
    say(`top-level permissions ${JSON.stringify(permissions)} are not read-only; grant write scopes per job`);
  }
  if (file.endsWith("release.yml") && workflow.concurrency === undefined)
    say("a release workflow needs concurrency, so two releases never interleave");

  for (const [jobName, jobValue] of Object.entries(asRecord(workflow.jobs))) {
    const job = asRecord(jobValue);
    if (job["timeout-minutes"] === undefined) say(`job ${jobName} has no timeout-minutes`);
    for (const [scope, level] of Object.entries(asRecord(job.permissions))) {
      if (level === "write" && !ALLOWED_WRITE_SCOPES.has(scope))
        say(`job ${jobName} asks for ${scope}: write, which no job needs`);
    }
    if (typeof job.permissions === "string")
      say(`job ${jobName} uses the blanket permissions "${job.permissions}"`);
    const steps = Array.isArray(job.steps) ? job.steps : [];
    for (const [index, stepValue] of steps.entries()) {
      const step = asRecord(stepValue);
      const where = `job ${jobName}, step ${index + 1}${typeof step.name === "string" ? ` (${step.name})` : ""}`;
      if (
        typeof step.uses === "string" &&
        step.uses.startsWith("actions/checkout@") &&
        asRecord(step.with)["persist-credentials"] !== false
      ) {
        say(`${where}: actions/checkout without persist-credentials: false leaves the token in .git/config`);
      }
      if (typeof step.uses === "string" && step.uses.startsWith("docker://"))
        say(`${where}: a docker:// action cannot be pinned here`);
      if (typeof step.run === "string" && step.run.includes("${{")) {
        say(
          `${where}: expands \${{ }} inside run:, where a crafted value becomes shell code; pass it through env:`,
        );
      }
    }
  }
  return violations;
}
