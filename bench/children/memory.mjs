// Figure 6: wasm heap and JS heap after N login → request → logout cycles of
// one session against the reference backend (in its own process).
// Run with --expose-gc. Usage: node --expose-gc memory.mjs '<json options>'
//   { firstCheckpoint: 100, step: 100, maxCycles: 10000, budgetMs: 90000 }
// The cycle count is maxCycles, or the largest multiple of `step` that fits
// budgetMs of cycling (firstCheckpoint must be a multiple of step).
import { performance } from 'node:perf_hooks';
import { installDom } from '../../tests/node/jsdom-globals.mjs';
import { startBackend } from '../lib/backend.mjs';
import { report } from '../lib/child.mjs';
import { summarize } from '../lib/stats.mjs';
import { DIST_DIR, DIST_ENTRY_URL } from '../lib/paths.mjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
const opts = { firstCheckpoint: 100, step: 100, maxCycles: 10_000, budgetMs: 90_000, reads: 5, ...JSON.parse(process.argv[2] || '{}') };

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

const backend = await startBackend();
installDom(`${backend.url}/`);
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

// Checkpoints every `step` cycles. After each, the run goes on only while one
// more step, at the pace of the last one, still fits the budget.
const checkpoints = [await snapshot(0)];
let done = 0;
let cycleMs = 0;
let firstMs = NaN;
while (done < opts.maxCycles) {
  const t0 = performance.now();
  for (let i = 0; i < opts.step; i++) await cycle();
  const ms = performance.now() - t0;
  done += opts.step;
  cycleMs += ms;
  if (done === opts.firstCheckpoint) firstMs = cycleMs;
  checkpoints.push(await snapshot(done));
  if (done >= opts.firstCheckpoint && cycleMs + ms > opts.budgetMs) break;
}
const msPerCycle = cycleMs / done;

session.dispose();
await backend.close();
report({
  options: opts, msPerCycle, projectedFullMs: msPerCycle * opts.maxCycles, cycles: done,
  capped: done < opts.maxCycles, firstMs, cycleMs, failures, checkpoints,
  wasmMemoryFound: wasmMemory() !== null,
});
process.exit(0);
