import { ExitCode } from "../exit-codes.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import { renderContainment, selftest } from "../runtime/containment.js";
import { type CommandContext, writeJson } from "./context.js";

export async function selftestAction(flags: { out?: string; json?: boolean }, context: CommandContext) {
  const { io } = context;
  const started = performance.now();
  const report = await selftest();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (flags.out !== undefined) await writeFileAtomic(flags.out, `${JSON.stringify(report, null, 2)}\n`);
  if (flags.json === true) writeJson(io, report);
  else io.stdout.write(renderContainment(report, seconds));
  if (report.verdict !== "contained") context.setExitCode(ExitCode.rejected);
}
