/**
 * Bounds on a skill archive. A skill is instructions and a few resources, not a program: these are far
 * above any real one and far below what would hurt the host that reads it at the gateway's edge.
 */
export const SKILL_LIMITS = {
  /** The .tar.gz as stored and signed. */
  archiveBytes: 4 * 1024 * 1024,
  /** The tar stream once unpacked (gunzip stops here: no decompression bomb). */
  tarBytes: 16 * 1024 * 1024,
  /** One file inside. */
  fileBytes: 4 * 1024 * 1024,
  entries: 256,
  /** SKILL.md itself. */
  manifestBytes: 64 * 1024,
  /** Directory depth of a resource path. */
  depth: 8,
  /** A path inside the archive, in bytes (ustar's name field, without its prefix). */
  pathBytes: 100,
} as const;

/** The file every skill has at its root. */
export const SKILL_MANIFEST = "SKILL.md";
