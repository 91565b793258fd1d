import type { ReleaseVerification } from "@ironclaw/verify/release";
import { palette } from "../terminal/color.js";

export const RELEASE_VERIFY_SCHEMA = "https://ironclaw.dev/schemas/release-verify/v1";

/** A heading with who signed, one line per check per file, and the verdict in words. */
export function renderReleaseReport(result: ReleaseVerification, useColor: boolean): string {
  const colors = palette(useColor);
  const lines: string[] = [];
  if (result.signer !== undefined) {
    const run = result.signer.runInvocationUri === undefined ? "" : `, run ${result.signer.runInvocationUri}`;
    lines.push(
      `ironclaw ${result.signer.tag} from ${result.signer.repository}, commit ${result.signer.commit}${run}`,
    );
  }
  if (result.trustedRoot !== undefined) {
    const root = result.trustedRoot;
    const date = root.newestKeyFrom === undefined ? "" : ` (newest key from ${root.newestKeyFrom})`;
    lines.push(`trusted root: ${root.name}${date}`);
  }
  for (const artifact of result.artifacts) {
    lines.push(artifact.name);
    for (const check of artifact.checks) {
      const mark = check.ok ? colors.ok("✓") : colors.bad("✗");
      const detail = check.ok || check.code === undefined ? check.detail : `${check.code}: ${check.detail}`;
      lines.push(`  ${mark} ${check.check.padEnd(10)} ${detail}`);
    }
  }
  const failed = result.artifacts.filter((artifact) => !artifact.ok).length;
  const count = `${result.artifacts.length} file(s)`;
  if (result.mode === "checksums-only") {
    lines.push(
      result.ok
        ? `Checksums match for ${count}, but NOT checked: ${result.notChecked.join("; ")}. Run ironclaw verify without --checksums-only for those.`
        : colors.bad(
            `NOT verified: ${failed} of ${count} failed the checksum check (and the signature and provenance were not checked)`,
          ),
    );
  } else if (result.ok && result.signer !== undefined) {
    lines.push(
      colors.ok(`Verified: ${count} of ironclaw ${result.signer.tag} (commit ${result.signer.commit})`),
    );
  } else {
    lines.push(
      colors.bad(
        result.artifacts.length === 0
          ? "NOT verified: no file to verify"
          : `NOT verified: ${failed} of ${count} failed`,
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

export function releaseDocument(result: ReleaseVerification, dir: string) {
  return {
    schema: RELEASE_VERIFY_SCHEMA,
    ok: result.ok,
    mode: result.mode,
    directory: dir,
    repository: result.repository,
    release: result.signer ?? null,
    trustedRoot: result.trustedRoot ?? null,
    artifacts: result.artifacts,
    notChecked: result.notChecked,
  };
}
