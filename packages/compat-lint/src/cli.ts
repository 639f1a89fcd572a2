#!/usr/bin/env node
import { setFlagsFromString } from "node:v8";

// A lint run is short and calls the parser's WASM (1.2 MB, one huge grammar
// function) a few thousand times. V8's default tiers that code up with
// TurboFan in the background, which on a short run costs more CPU than it
// saves: measured on 2,000 files, --liftoff-only cuts wall time by a third
// (tools/bench-compat-lint/RESULTS.md). Only WASM compiled after this line is
// affected, so it must run before the parser is loaded (src/pg-wasm.ts, on the
// first lint); the dynamic import below keeps that order obvious. This entry
// point is the CLI only; the library leaves V8 alone.
setFlagsFromString("--liftoff-only");

const { main } = await import("./cli-main.js");
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`compat-lint: internal error: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 2;
  },
);
