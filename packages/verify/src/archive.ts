/** Archive framing whose bytes depend only on the input: deterministic gzip and its CRC-32. */
export { crc32 } from "./archive/crc32.js";
export { DEFLATE_LEVEL, gzipDeterministic } from "./archive/gzip.js";
