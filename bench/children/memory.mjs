// Figure 6: wasm heap and JS heap after 100 and after 10,000 login → request →
// logout cycles of one session against the reference backend (in its own
// process). Run with --expose-gc. Usage: node --expose-gc memory.mjs '<json options>'
//   { cycles: 10000, baseline: 100, checkpoints: [100, 1000, ..., 10000], reads: 5,
//     transport: 'node-http' | 'jsdom', backendDb: 'memory' | 'file' }
// Every cycle is run: there is no time cap. A snapshot (gc, then `reads`
// readings) is taken before the first cycle and after each checkpoint.
//
// transport 'node-http' (the default) swaps jsdom's XMLHttpRequest for the
// small one in lib/node-xhr.mjs: the same requests over real HTTP to the same
// backend, without the few ms of jsdom CPU per request that would otherwise
// make 50,000 requests take minutes. backendDb 'memory' gives the backend an
// in-memory SQLite database (dbPath ':memory:'), so its fsyncs do not pace the
// cycles. Both only change the cost of the run, not what the client does.
import { performance } from 'node:perf_hooks';
import { installDom } from '../../tests/node/jsdom-globals.mjs';
import { startBackend } from '../lib/backend.mjs';
import { report } from '../lib/child.mjs';
import { NodeXMLHttpRequest } from '../lib/node-xhr.mjs';
import { summarize } from '../lib/stats.mjs';
import { DIST_DIR, DIST_ENTRY_URL } from '../lib/paths.mjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
const opts = {
  cycles: 10_000,
  baseline: 100, // growth is measured from this checkpoint to the last
  checkpoints: [100, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000],
  reads: 5,
  transport: 'node-http',
  backendDb: 'memory',
  ...JSON.parse(process.argv[2] || '{}'),
};
const checkpointAt = new Set(opts.checkpoints.filter((c) => c > 0 && c <= opts.cycles));
checkpointAt.add(opts.baseline);
checkpointAt.add(opts.cycles);
if (!['node-http', 'jsdom'].includes(opts.transport)) throw new Error(`unknown transport ${opts.transport}`);
if (!['memory', 'file'].includes(opts.backendDb)) throw new Error(`unknown backendDb ${opts.backendDb}`);

// The entry does not expose its wasm memory, so its instance is caught on the
// way out of WebAssembly.instantiate. Other code in the process (jsdom's HTTP
// stack) instantiates wasm too: ours is the one whose module has the exports
// of web/dist/cleanslate.wasm.
const signature = (mod) => JSON.stringify(WebAssembly.Module.exports(mod));
const ourSignature = signature(new WebAssembly.Module(readFileSync(join(DIST_DIR, 'cleanslate.wasm'))));
let ourInstance = null;
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async function (...args) {
  const out = await instantiate.apply(this, args);
  const instance = out instanceof WebAssembly.Instance ? out : out.instance;
  const mod = args[0] instanceof WebAssembly.Module ? args[0] : out.module;
  if (mod && signature(mod) === ourSignature) ourInstance = instance;
  return out;
};
const wasmMemory = () => (ourInstance
  ? Object.values(ourInstance.exports).find((v) => v instanceof WebAssembly.Memory) || null
  : null);

// Highest non-zero byte of linear memory. The heap sits above static data and
// the stack and pages arrive zeroed, so this is the heap's high-water mark:
// finer than byteLength (64 KiB pages, 16 MiB initial) and, because freed
// blocks are reused, it keeps rising only while live data keeps growing.
function heapTop(mem) {
  const words = new Uint32Array(mem.buffer);
  let i = words.length - 1;
  while (i >= 0 && words[i] === 0) i--;
  return (i + 1) * 4;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function snapshot(cycles) {
  await sleep(50); // let finished XHRs and timers unwind
  const reads = [];
  for (let i = 0; i < opts.reads; i++) {
    globalThis.gc();
    globalThis.gc();
    const m = process.memoryUsage();
    const mem = wasmMemory();
    reads.push({
      heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers,
      wasmBytes: mem ? mem.buffer.byteLength : NaN, wasmHeapTop: mem ? heapTop(mem) : NaN,
    });
  }
  const med = (k) => summarize(reads.map((r) => r[k]));
  return {
    cycles,
    heapUsed: med('heapUsed'), rss: med('rss'), external: med('external'), arrayBuffers: med('arrayBuffers'),
    wasmBytes: med('wasmBytes'), wasmHeapTop: med('wasmHeapTop'),
  };
}

const backend = await startBackend(opts.backendDb === 'memory' ? { dbPath: ':memory:' } : {});
installDom(`${backend.url}/`);
if (opts.transport === 'node-http') globalThis.XMLHttpRequest = NodeXMLHttpRequest;
const { createSession } = await import(DIST_ENTRY_URL);
const session = await createSession({ apiBase: backend.apiBase });

let failures = 0;
async function cycle() {
  const login = await session.login('userA@test.com', 'password');
  if (!login.success) failures++;
  const profile = await session.get('/user/profile');
  if (profile.status !== 200) failures++;
  const out = await session.logout();
  if (!out.success || !out.backendNotified) failures++;
}

// All `cycles` cycles, with a snapshot after each checkpoint. Only the cycling
// is timed (cycleMs); snapshots (gc and reads) are not.
const checkpoints = [{ ...(await snapshot(0)), cycleMs: 0 }];
let cycleMs = 0;
const started = performance.now();
for (let done = 1; done <= opts.cycles; done++) {
  const t0 = performance.now();
  await cycle();
  cycleMs += performance.now() - t0;
  if (checkpointAt.has(done)) checkpoints.push({ ...(await snapshot(done)), cycleMs });
}
const totalMs = performance.now() - started;
const backendInfo = { scryptN: backend.scryptN, db: opts.backendDb, stats: await backend.stats() };

session.dispose();
await backend.close();
report({
  options: opts, cycles: opts.cycles, msPerCycle: cycleMs / opts.cycles, cycleMs, totalMs,
  failures, backend: backendInfo, checkpoints, wasmMemoryFound: wasmMemory() !== null,
});
process.exit(0);
