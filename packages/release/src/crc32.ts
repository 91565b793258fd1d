export { crc32 } from "@ironclaw/verify/archive";
