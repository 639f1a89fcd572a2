#!/usr/bin/env node
import { setFlagsFromString } from "node:v8";

// A lint run is short and calls the parser's WASM (1.2 MB, one huge grammar
// function) a few thousand times. V8's default tiers that code up with
// TurboFan in the background, which on a short run costs more CPU than it
// saves: measured on 2,000 files, --liftoff-only cuts wall time by a third
// (tools/bench-compat-lint/RESULTS.md). Only WASM compiled after this line is
// affected, so it must run before the parser is loaded (src/parse/pg-wasm.ts, on the
// first lint); the dynamic import below keeps that order obvious. This entry
// point is the CLI only; the library leaves V8 alone.
setFlagsFromString("--liftoff-only");
// The same holds for the linter's own JavaScript: TurboFan compiles hot
// functions on a second thread, and in a run this short that compilation costs
// more CPU (~100 ms of a ~400 ms run on 2,000 files) than the optimized code
// saves; with the second core shared, it costs wall time too. Ignition and
// Sparkplug run it fine.
setFlagsFromString("--no-opt");

const { main } = await import("./cli/main.js");
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`compat-lint: internal error: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 2;
  },
);
