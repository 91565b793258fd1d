// The deterministic gzip lives in @ironclaw/verify, which skill archives need at run time too.
export { DEFLATE_LEVEL, gzipDeterministic } from "@ironclaw/verify/archive";
