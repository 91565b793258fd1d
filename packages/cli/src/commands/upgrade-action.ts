import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { type UpgradeOutcome, upgrade } from "../upgrade/upgrade.js";
import { type CommandContext, type JsonOption, writeJson } from "./context.js";
import { loadTrustedRoot } from "./verify-bundle-action.js";

export interface UpgradeFlags extends JsonOption {
  readonly version?: string;
  readonly baseUrl?: string;
  readonly repo?: string;
  readonly check?: boolean;
  readonly allowDowngrade?: boolean;
  readonly rollback?: boolean;
  readonly trustedRoot?: string;
  readonly timeout: string;
}

export const UPGRADE_SCHEMA = "https://ironclaw.dev/schemas/upgrade/v1";

function describe(outcome: UpgradeOutcome): string {
  switch (outcome.kind) {
    case "up-to-date":
      return `ironclaw v${outcome.version} is up to date`;
    case "available":
      return `ironclaw v${outcome.to} is available (installed v${outcome.from}); its signature and provenance verify (commit ${outcome.commit}). Run ironclaw upgrade to install it`;
    case "upgraded":
      return `upgraded ${outcome.path} from v${outcome.from} to v${outcome.to} (commit ${outcome.commit}), verified; the previous one is kept at ${outcome.previous} (ironclaw upgrade --rollback)`;
    case "rolled-back":
      return `rolled back ${outcome.path} to the previous ironclaw; the one it replaced is now ${outcome.previous}`;
  }
}

export async function upgradeAction(flags: UpgradeFlags, context: CommandContext): Promise<void> {
  const seconds = Number(flags.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new CliError("IC_USAGE", `--timeout must be a positive number of seconds, not ${flags.timeout}`);
  if (flags.rollback === true && (flags.version !== undefined || flags.check === true)) {
    throw new CliError("IC_USAGE", "--rollback takes no --version or --check");
  }
  const outcome = await upgrade(
    {
      ...(flags.version === undefined ? {} : { version: flags.version }),
      ...(flags.baseUrl === undefined ? {} : { baseUrl: flags.baseUrl }),
      ...(flags.repo === undefined ? {} : { repo: flags.repo }),
      check: flags.check === true,
      allowDowngrade: flags.allowDowngrade === true,
      rollback: flags.rollback === true,
      timeoutMs: seconds * 1000,
      trustedRoot: () => loadTrustedRoot(flags.trustedRoot, context.io),
    },
    context,
  );
  if (flags.json === true) writeJson(context.io, { schema: UPGRADE_SCHEMA, ok: true, ...outcome });
  else context.io.stdout.write(`${describe(outcome)}\n`);
  context.setExitCode(ExitCode.ok);
}
