// Figure 2 (Node): one cold start per process. Installs jsdom globals (not
// timed), then times the first import of the module and the first
// createSession() (which fetches, compiles and instantiates the wasm).
// Usage: node cold-node.mjs <backend origin>
import { performance } from 'node:perf_hooks';
import { installDom } from '../../tests/node/jsdom-globals.mjs';
import { report } from '../lib/child.mjs';
import { DIST_ENTRY_URL } from '../lib/paths.mjs';

const origin = process.argv[2];
const tDom0 = performance.now();
installDom(`${origin}/`);
const tDom1 = performance.now();

const t0 = performance.now();
const { createSession } = await import(DIST_ENTRY_URL);
const t1 = performance.now();
const session = await createSession({ apiBase: `${origin}/api/v1` });
const t2 = performance.now();

session.dispose();
report({ domSetupMs: tDom1 - tDom0, importMs: t1 - t0, createSessionMs: t2 - t1, totalMs: t2 - t0, processUptimeMs: t2 });
process.exit(0);
