#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled TypeScript (npm install runs `prepare`, which builds dist/).
import { main } from '../dist/src/cli/main.js';

main(process.argv).catch((error) => {
  const code = error && error.code ? ` [${error.code}]` : '';
  process.stderr.write(`radlearn: ${error && error.message ? error.message : String(error)}${code}\n`);
  process.exitCode = 1;
});
