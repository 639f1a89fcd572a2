#!/usr/bin/env node
// The package's bin. It is committed (dist/ is built), so npm links it at
// install time even in a fresh checkout of this repository, before
// `npm run build` has produced the CLI it runs. Without it, `npm ci` in the
// repo left node_modules/.bin/outbox-worker dangling and `npx outbox-worker`
// fell through to the registry, where anyone could own the name.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(cli)) {
  // Only in a checkout of the sources: the published package ships dist/.
  process.stderr.write(
    `outbox-worker: not built: ${fileURLToPath(cli)} is missing; run \`npm run build\` first\n`,
  );
  process.exit(2);
}
await import(cli.href);
