// The bundle's entry point: what the runner starts (action.yml `runs.main`). run() never rejects; the
// catch is for a failure inside @actions/core itself, so the step fails rather than passes silently.
import { run } from "./run.js";

run().catch((error: unknown) => {
  process.exitCode = 1;
  console.error(error);
});
