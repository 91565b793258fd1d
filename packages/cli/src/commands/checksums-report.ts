import type { ChecksumsVerification, FileCheck, FileStatus } from "@ironclaw/verify/checksums";
import { type Palette, palette } from "../terminal/color.js";

export const CHECKSUMS_VERIFY_SCHEMA = "https://ironclaw.dev/schemas/checksums-verify/v1";
export const CHECKSUMS_CREATE_SCHEMA = "https://ironclaw.dev/schemas/checksums-create/v1";

export interface VerifyReportContext {
  readonly checksumsFile: string;
  readonly directory: string;
  readonly ignoreMissing: boolean;
}

/** Names from the command line may hold anything; print them so a terminal cannot be steered. */
export function printableName(name: string): string {
  return /[\u0000-\u001f\u007f-\u009f]/u.test(name) ? JSON.stringify(name) : name;
}

const LABEL: Readonly<Record<FileStatus, string>> = {
  OK: "OK",
  FAILED: "FAILED",
  MISSING: "MISSING",
  NOT_LISTED: "NOT LISTED",
  ERROR: "ERROR",
};

function fileLines(file: FileCheck, context: VerifyReportContext, colors: Palette): string[] {
  const name = printableName(file.name);
  const list = context.checksumsFile === "-" ? "the checksums on standard input" : context.checksumsFile;
  const label = file.status === "OK" ? colors.ok(LABEL.OK) : colors.bad(LABEL[file.status]);
  switch (file.status) {
    case "OK":
      return [`${name}: ${label}`];
    case "MISSING":
      return [
        context.ignoreMissing
          ? `${name}: ${colors.dim("MISSING (ignored: --ignore-missing)")}`
          : `${name}: ${label} (listed in ${list}, not found in ${context.directory})`,
      ];
    case "NOT_LISTED":
      return [`${name}: ${label} (no line for this exact name in ${list})`];
    default:
      if (file.error !== undefined) return [`${name}: ${label} (${file.error.code}: ${file.error.message})`];
      return [
        `${name}: ${label}`,
        `  expected sha256 ${file.expectedSha256 ?? "?"}`,
        `  found    sha256 ${file.actualSha256 ?? "?"}`,
      ];
  }
}

export function summaryLine(report: ChecksumsVerification, context: VerifyReportContext): string {
  const { counts } = report;
  const parts = [`${counts.OK} OK`];
  if (counts.FAILED > 0) parts.push(`${counts.FAILED} FAILED`);
  if (counts.MISSING > 0) parts.push(`${counts.MISSING} MISSING${context.ignoreMissing ? " (ignored)" : ""}`);
  if (counts.NOT_LISTED > 0) parts.push(`${counts.NOT_LISTED} NOT LISTED`);
  if (counts.ERROR > 0) parts.push(`${counts.ERROR} ERROR`);
  const files = report.files.length === 1 ? "1 file" : `${report.files.length} files`;
  const verdict = report.ok
    ? "verified"
    : counts.OK === 0 && counts.FAILED === 0 && counts.ERROR === 0
      ? "NOT verified: no file was checked"
      : "NOT verified";
  return `${files}: ${parts.join(", ")}; ${verdict}`;
}

export function renderVerifyReport(
  report: ChecksumsVerification,
  context: VerifyReportContext,
  useColor: boolean,
): string {
  const colors = palette(useColor);
  const lines = report.files.flatMap((file) => fileLines(file, context, colors));
  lines.push(summaryLine(report, context));
  return `${lines.join("\n")}\n`;
}

export function verifyReportDocument(report: ChecksumsVerification, context: VerifyReportContext) {
  return {
    schema: CHECKSUMS_VERIFY_SCHEMA,
    ok: report.ok,
    checksumsFile: context.checksumsFile,
    directory: context.directory,
    ignoreMissing: context.ignoreMissing,
    files: report.files.map((file) => ({
      name: file.name,
      status: file.status,
      expectedSha256: file.expectedSha256 ?? null,
      actualSha256: file.actualSha256 ?? null,
      size: file.size ?? null,
      error: file.error ?? null,
    })),
    summary: {
      total: report.files.length,
      ok: report.counts.OK,
      failed: report.counts.FAILED,
      missing: report.counts.MISSING,
      notListed: report.counts.NOT_LISTED,
      error: report.counts.ERROR,
    },
  };
}
