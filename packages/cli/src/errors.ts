/** Failures that belong to the command line rather than to a library. */
export const CLI_ERROR_CODES = [
  "IC_USAGE",
  "IC_OUTPUT_WRITE",
  "IC_INTERNAL",
  // Talking to a release server.
  "IC_NETWORK",
  "IC_NETWORK_STATUS",
  "IC_NETWORK_REDIRECTS",
  "IC_NETWORK_INSECURE",
  "IC_NETWORK_REDIRECT_REFUSED",
  "IC_NETWORK_TOO_LARGE",
  "IC_NETWORK_TIMEOUT",
  // Replacing the installed ironclaw.
  "IC_UPGRADE_NOT_INSTALLED",
  "IC_UPGRADE_REFUSED",
  "IC_UPGRADE_VERIFICATION",
  "IC_UPGRADE_NO_PREVIOUS",
  "IC_UPGRADE_BUSY",
  "IC_INSTALL_WRITE",
  // Inspecting an MCP server before approving it.
  "IC_MCP_REFUSED",
] as const;

export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

export class CliError extends Error {
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "CliError";
    this.code = code;
  }
}
