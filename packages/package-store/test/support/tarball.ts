import { gzipSync } from "node:zlib";

/** One entry of a test tarball; `type` is the ustar type flag ("0" file, "5" dir, "2" symlink, "6" FIFO…). */
export interface TarEntry {
  readonly path: string;
  readonly type?: "0" | "1" | "2" | "3" | "4" | "5" | "6";
  readonly data?: string | Buffer;
  readonly linkpath?: string;
  readonly mode?: number;
  /** Announce this size instead of the data's (for a header that lies). */
  readonly size?: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/**
 * A ustar archive written by hand, gzipped: self-made samples, because the hostile entries a test needs
 * (`../`, links out, FIFOs, devices) are what no packer of ours would write.
 */
export function tarball(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? "");
    const header = Buffer.alloc(512);
    header.write(entry.path, 0, 100, "utf8");
    header.write(octal(entry.mode ?? (entry.type === "5" ? 0o755 : 0o644), 8), 100, "ascii");
    header.write(octal(0, 8), 108, "ascii");
    header.write(octal(0, 8), 116, "ascii");
    header.write(octal(entry.size ?? data.length, 12), 124, "ascii");
    header.write(octal(499162500, 12), 136, "ascii");
    header.write("        ", 148, "ascii");
    header.write(entry.type ?? "0", 156, "ascii");
    header.write(entry.linkpath ?? "", 157, 100, "utf8");
    header.write("ustar\0" + "00", 257, "ascii");
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** A plain package: package.json and one script, under npm's `package/` top directory. */
export function plainPackage(name: string, version: string, extra: readonly TarEntry[] = []): Buffer {
  return tarball([
    { path: "package/package.json", data: JSON.stringify({ name, version, bin: "server.js" }) },
    { path: "package/server.js", data: "console.log('an MCP server');\n" },
    { path: "package/lib/", type: "5" },
    { path: "package/lib/tool.js", data: "export const tool = 1;\n" },
    ...extra,
  ]);
}
