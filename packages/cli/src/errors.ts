/** Failures that belong to the command line rather than to a library. */
export const CLI_ERROR_CODES = ["IC_USAGE", "IC_OUTPUT_WRITE", "IC_INTERNAL"] as const;

export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

export class CliError extends Error {
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "CliError";
    this.code = code;
  }
}
