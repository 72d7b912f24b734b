#!/usr/bin/env node
// Entry point of `node dist/src/cli/bin.js`: the only module with a side effect at import. The
// `ca` of package.json is bin/ca.cjs, which runs the same `runBin` from a code-cached bundle.
import { runBin } from './run-bin.js';

runBin(process.argv.slice(2));
