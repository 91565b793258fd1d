import { execFile } from "node:child_process";
import { CliError } from "../errors.js";
import type { Installation } from "./installation.js";

const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;

/**
 * The version of the file an upgrade would replace, asked of that file itself. It can differ from the
 * running process's: another upgrade may have replaced the file since this process started, and the
 * anti-rollback check must compare with what is really there.
 */
export async function installedVersion(installation: Installation): Promise<string> {
  const [command, args] =
    installation.kind === "executable"
      ? [installation.path, ["--version"]]
      : [process.execPath, [installation.path, "--version"]];
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      command,
      args,
      {
        timeout: 20_000,
        maxBuffer: 4096,
        encoding: "utf8",
        env: { ...process.env, IRONCLAW_FAILPOINT: "" },
        windowsHide: true,
      },
      (error, stdout) => (error === null ? resolve(stdout) : reject(error)),
    );
  }).catch((error: Error) => {
    throw new CliError(
      "IC_UPGRADE_REFUSED",
      `cannot tell which version ${installation.path} is (${error.message.split("\n")[0]}), so a downgrade could not be ruled out; pass --allow-downgrade to replace it anyway`,
      { cause: error },
    );
  });
  const version = output.trim();
  if (!VERSION.test(version)) {
    throw new CliError(
      "IC_UPGRADE_REFUSED",
      `${installation.path} --version printed ${JSON.stringify(version.slice(0, 80))}, not X.Y.Z, so a downgrade could not be ruled out; pass --allow-downgrade to replace it anyway`,
    );
  }
  return version;
}
