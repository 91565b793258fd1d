/** The GitHub Action that verifies a release; `action-entry.ts` runs it, tests call `run` directly. */
export { type ActionInputs, INPUT_NAMES, InputError, type InputName, readInputs } from "./inputs.js";
export {
  type Annotation,
  actionOutputs,
  errorSummaryContent,
  escapeHtml,
  expectationLine,
  failureAnnotations,
  logLine,
  logLines,
  MAX_CHECK_ANNOTATIONS,
  OUTPUT_NAMES,
  type OutputName,
  type SummaryCell,
  type SummaryContent,
  summaryContent,
  verdict,
} from "./report.js";
export { type DirectoryVerification, describeError, PUBLIC_GOOD_ROOT, run, verifyDirectory } from "./run.js";
