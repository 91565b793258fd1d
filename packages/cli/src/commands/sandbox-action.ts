import { ExitCode } from "../exit-codes.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import { selftest } from "../runtime/containment.js";
import { type CommandContext, writeJson } from "./context.js";

export async function selftestAction(flags: { out?: string; json?: boolean }, context: CommandContext) {
  const { io } = context;
  const report = await selftest();
  if (flags.out !== undefined) await writeFileAtomic(flags.out, `${JSON.stringify(report, null, 2)}\n`);
  if (flags.json === true) writeJson(io, report);
  else {
    const width = Math.max(...report.invariants.map((i) => i.id.length));
    for (const i of report.invariants) {
      io.stdout.write(
        `${i.held ? "✓" : "✗"} ${i.id.padEnd(width)}  expected ${i.expected.padEnd(7)}  observed ${i.observed}\n`,
      );
    }
    io.stdout.write(`${report.verdict} (${report.bwrap}, node ${report.node})\n`);
  }
  if (report.verdict !== "contained") context.setExitCode(ExitCode.rejected);
}
