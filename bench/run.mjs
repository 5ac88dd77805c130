// cleanslate benchmark (`npm run bench`): size, cold start, per-request
// overhead, refresh fan-in, logout latency and memory. Prints one table and
// writes bench/results.json with every raw sample. Nothing here asserts: the
// table says which targets are met. See bench/README.md for the method.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startBackend } from './lib/backend.mjs';
import { runBrowser } from './lib/browser.mjs';
import { runChild } from './lib/child.mjs';
import { BENCH_DIR, DIST_DIR, ROOT, childScript } from './lib/paths.mjs';
import { SIZE_ANCHORS, measureSize } from './lib/size.mjs';
import { slope, summarize } from './lib/stats.mjs';
import { fmt, renderTable, row } from './lib/table.mjs';

// Repeat counts, chosen so the whole run stays near 3 minutes on 2 cores.
const PLAN = {
  coldNodeSamples: 7,
  coldBrowserSamples: 5,
  // Chromium start-up beside ofetch: this many cold page loads of each, alternating.
  startSamples: 21,
  // Many short alternating blocks, so load changes on the machine hit both sides.
  overhead: { rounds: 10, perBlock: 100, chunk: 10, warmup: 50 },
  browserOverhead: { rounds: 10, perBlock: 50, chunk: 10, warmup: 20 },
  inMemory: { rounds: 10, perBlock: 500, chunk: 50, warmup: 2000 },
  phases: { rounds: 10, perBlock: 50, warmup: 200 },
  fanIn: { samples: 7, concurrency: 100 },
  logout: { samples: 50, timeoutMs: 300 },
  // Every one of the 10,000 cycles runs (no time cap); growth is 100 → 10,000.
  memory: {
    cycles: 10_000,
    baseline: 100,
    checkpoints: [100, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000],
    reads: 5,
    transport: 'node-http',
    backendDb: 'memory',
  },
};

const TARGETS = {
  // 28,000 B for the features before CONTRACT.md §5, plus at most 2,000 B
  // for §5's reset hooks, cleaners and session.fetch, which are in the build.
  sizeGzipBytes: 30_000,
  coldCreateSessionMs: 15,
  startRatio: 1.3,
  overheadRatio: 0.9,
  fanInRefreshes: 1,
  logoutEventMs: 1,
  logoutOverrunMs: 50,
  wasmGrowthBytes: 64 * 1024,
};

// `node bench/run.mjs --only=memory` (comma-separated) runs only some
// sections: size, coldNode, browser, client, inMemory, phases, memory. The
// table then has only their rows, and results.json records which ones ran.
const SECTIONS = ['size', 'coldNode', 'browser', 'client', 'inMemory', 'phases', 'memory'];
const onlyArg = process.argv.slice(2).find((a) => a.startsWith('--only='));
const only = onlyArg ? onlyArg.slice('--only='.length).split(',').filter(Boolean) : SECTIONS;
for (const name of only) {
  if (!SECTIONS.includes(name)) {
    process.stderr.write(`bench: unknown section "${name}" in --only (known: ${SECTIONS.join(', ')})\n`);
    process.exit(2);
  }
}
const want = (name) => only.includes(name);

const started = performance.now();
const sectionMs = {};
let sectionName = null;
let sectionStart = 0;
// Logs the next section to stderr and keeps how long the previous one took.
const progress = (msg, name) => {
  const now = performance.now();
  if (sectionName) sectionMs[sectionName] = now - sectionStart;
  sectionName = name || null;
  sectionStart = now;
  process.stderr.write(`bench: ${msg}\n`);
};

function distFingerprint() {
  const hash = createHash('sha256');
  for (const f of ['cleanslate.mjs', 'cleanslate.wasm']) {
    const p = join(DIST_DIR, f);
    hash.update(existsSync(p) ? readFileSync(p) : Buffer.alloc(0));
  }
  return hash.digest('hex').slice(0, 16);
}

if (!existsSync(join(DIST_DIR, 'cleanslate.mjs')) || !existsSync(join(DIST_DIR, 'cleanslate.wasm'))) {
  progress('web/dist is missing: building');
  const built = spawnSync('bash', [join(ROOT, 'scripts', 'build.sh')], { stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status || 1);
}

let gitCommit = null;
try {
  gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch { /* not a git checkout */ }

const results = {
  when: new Date().toISOString(),
  gitCommit,
  distFingerprint: distFingerprint(),
  node: process.version,
  cpus: cpus().length,
  loadAverageAtStart: loadavg(),
  plan: PLAN,
  targets: TARGETS,
  sections: only,
};

// ---- 1. size ------------------------------------------------------------------
if (want('size')) {
  progress('size', 'size');
  results.size = measureSize();
}

// ---- 2. cold start in Node ------------------------------------------------------
if (want('coldNode')) {
  progress(`cold start in Node (${PLAN.coldNodeSamples} processes)`, 'coldNode');
  const backend = await startBackend();
  const samples = [];
  try {
    for (let i = 0; i < PLAN.coldNodeSamples; i++) samples.push(await runChild(childScript('cold-node.mjs'), [backend.url]));
  } finally {
    await backend.close();
  }
  results.coldNode = { samples };
}

// ---- 2 + 3. Chromium -------------------------------------------------------------
if (want('browser')) {
  progress('Chromium: cold start and per-request overhead', 'browser');
  try {
    results.browser = await runBrowser({
      coldSamples: PLAN.coldBrowserSamples, startSamples: PLAN.startSamples, overhead: PLAN.browserOverhead,
    });
  } catch (error) {
    results.browser = { skipped: String(error && error.message ? error.message : error).split('\n')[0] };
  }
}

// ---- 3, 4, 5. jsdom client ---------------------------------------------------------
if (want('client')) {
  progress('Node/jsdom: per-request overhead, refresh fan-in, logout latency', 'client');
  results.client = await runChild(childScript('client.mjs'), [JSON.stringify({
    overhead: PLAN.overhead, fanIn: PLAN.fanIn, logout: PLAN.logout,
  })]);
}

// ---- 3. library CPU per request (in-memory XMLHttpRequest) ------------------------
if (want('inMemory')) {
  progress('Node: per-request CPU over an in-memory XMLHttpRequest', 'inMemory');
  results.inMemory = await runChild(childScript('inmemory.mjs'), [JSON.stringify(PLAN.inMemory)]);
}

// ---- 3. where a request's time goes in jsdom (instrumented) ------------------------
if (want('phases')) {
  progress('Node/jsdom: per-request time split by phase (instrumented run)', 'phases');
  results.phases = await runChild(childScript('phases.mjs'), [JSON.stringify(PLAN.phases)]);
}

// ---- 6. memory --------------------------------------------------------------------
if (want('memory')) {
  progress(`memory (${PLAN.memory.cycles.toLocaleString('en-US')} login → request → logout cycles)`, 'memory');
  results.memory = await runChild(childScript('memory.mjs'), [JSON.stringify(PLAN.memory)],
    { nodeArgs: ['--expose-gc'], timeoutMs: 900_000 });
}

progress('table');
results.sectionMs = sectionMs;
results.totalMs = performance.now() - started;
results.loadAverageAtEnd = loadavg();
results.distChangedDuringRun = distFingerprint() !== results.distFingerprint;

// ---- table ------------------------------------------------------------------------
const rows = [];
const T = TARGETS;

if (results.size) {
  const F = '1 size';
  const { files, total } = results.size;
  for (const f of files) {
    rows.push(row(F, `${f.file} raw`, f.raw, 'B'));
    rows.push(row(F, `${f.file} gzip -9`, f.gzip, 'B'));
    rows.push(row(F, `${f.file} brotli q11`, f.brotli, 'B'));
  }
  rows.push(row(F, 'total raw (core: .mjs + .wasm; react.mjs not counted)', total.raw, 'B'));
  rows.push(row(F, `total gzip -9 (${fmt(total.gzip, 'KB')})`, total.gzip, 'B',
    { target: `≤ ${fmt(T.sizeGzipBytes, 'KB')}`, met: total.gzip <= T.sizeGzipBytes }));
  rows.push(row(F, `total brotli q11 (${fmt(total.brotli, 'KB')})`, total.brotli, 'B'));
  for (const a of SIZE_ANCHORS) {
    rows.push(row(F, `gzip total ÷ ${a.name} (ref. ${a.gzipKB} KB)`, total.gzip / (a.gzipKB * 1000), 'x'));
  }
}

if (results.coldNode || results.browser) {
  const F = '2 cold start';
  if (results.coldNode) {
    const s = results.coldNode.samples;
    rows.push(row(F, 'Node: import of the module', summarize(s.map((x) => x.importMs)), 'ms'));
    const cs = summarize(s.map((x) => x.createSessionMs));
    rows.push(row(F, 'Node: first createSession() (wasm load)', cs, 'ms',
      { target: `≤ ${T.coldCreateSessionMs} ms`, met: cs.median <= T.coldCreateSessionMs }));
    rows.push(row(F, 'Node: import + createSession()', summarize(s.map((x) => x.totalMs)), 'ms'));
  }
  const b = results.browser;
  if (b && b.cold && b.cold.length) {
    rows.push(row(F, 'Chromium: navigation start → page script runs', summarize(b.cold.map((x) => x.importStart)), 'ms'));
    rows.push(row(F, 'Chromium: import of the module', summarize(b.cold.map((x) => x.imported - x.importStart)), 'ms'));
    rows.push(row(F, 'Chromium: first createSession() (wasm load)', summarize(b.cold.map((x) => x.ready - x.imported)), 'ms'));
    rows.push(row(F, 'Chromium: navigation start → session ready', summarize(b.cold.map((x) => x.ready)), 'ms'));
  } else if (b) {
    rows.push({ figure: F, measure: `Chromium: skipped (${b.skipped})`, median: '—', range: '—', n: '0', target: '', met: '' });
  }
  const st = b && b.start;
  if (st && st.skipped) {
    rows.push({ figure: F, measure: `Chromium start-up beside ofetch: skipped (${st.skipped})`, median: '—', range: '—', n: '0', target: '', met: '' });
  } else if (st) {
    const cs = summarize(st.cleanslate);
    const of = summarize(st.ofetch);
    const ratio = cs.median / of.median;
    rows.push(row(F, 'Chromium cold, import + ready to send: cleanslate (createSession resolved)', cs, 'ms'));
    rows.push(row(F, `Chromium cold, import + ready to send: ofetch (${fmt(st.ofetchGzip, 'B')} gzip bundle)`, of, 'ms'));
    rows.push(row(F, 'Chromium cold, of which import(): cleanslate', summarize(st.importMs.cleanslate), 'ms'));
    rows.push(row(F, 'Chromium cold, of which import(): ofetch', summarize(st.importMs.ofetch), 'ms'));
    rows.push(row(F, 'Chromium cold start-up ratio cleanslate ÷ ofetch (medians)', ratio, 'x',
      { target: `≤ ${T.startRatio.toFixed(2)}×`, met: ratio <= T.startRatio }));
    if (st.error) rows.push({ figure: F, measure: `Chromium start-up: failed samples (first: ${st.error})`, median: '', range: '', n: '', target: '', met: '' });
  }
}

function overheadRows(F, label, o) {
  const n = o.perBlock;
  const sessionRps = o.sessionMs.map((ms) => (n * 1000) / ms);
  const rawRps = o.rawMs.map((ms) => (n * 1000) / ms);
  const ratios = o.sessionMs.map((ms, i) => o.rawMs[i] / ms);
  const addedUs = o.sessionMs.map((ms, i) => ((ms - o.rawMs[i]) * 1000) / n);
  const ratio = summarize(ratios);
  rows.push(row(F, `${label}: session.get() throughput`, summarize(sessionRps), 'req/s'));
  rows.push(row(F, `${label}: raw XMLHttpRequest throughput`, summarize(rawRps), 'req/s'));
  rows.push(row(F, `${label}: throughput ratio session / raw`, ratio, 'ratio',
    { target: `≥ ${T.overheadRatio.toFixed(2)}`, met: ratio.median >= T.overheadRatio }));
  rows.push(row(F, `${label}: time added per request`, summarize(addedUs), 'µs'));
  if (o.nonOk) rows.push(row(F, `${label}: responses other than 200`, o.nonOk, 'count'));
}

{
  const F = '3 per-request';
  if (results.client) overheadRows(F, 'jsdom', results.client.overhead);
  const b = results.browser;
  if (b && b.overhead) overheadRows(F, 'Chromium', b.overhead);
  const im = results.inMemory;
  if (im) {
    const perReq = (list) => list.map((ms) => (ms * 1000) / im.perBlock);
    rows.push(row(F, 'in-memory XHR: session.get() CPU per request', summarize(perReq(im.sessionMs)), 'µs'));
    rows.push(row(F, 'in-memory XHR: raw XHR CPU per request', summarize(perReq(im.rawMs)), 'µs'));
    rows.push(row(F, 'in-memory XHR: library cost per request', summarize(im.sessionMs.map((ms, i) => ((ms - im.rawMs[i]) * 1000) / im.perBlock)), 'µs'));
  }
  const ph = results.phases;
  if (ph) {
    // Per request, from each round's totals: time inside jsdom's XHR
    // (constructor, methods, getters); the client's own JS and wasm around it
    // (its call, the microtask that starts the request, its load handler,
    // less the XHR time inside them); and the rest of the wall time (event
    // loop, jsdom's network work between calls, GC).
    const split = (list) => {
      const per = (f) => summarize(list.map((x) => (f(x) * 1000) / ph.perBlock));
      return {
        xhr: per((x) => x.xhr),
        own: per((x) => x.call + x.micro + x.load - x.xhr),
        rest: per((x) => x.wall - x.call - x.micro - x.load),
        wall: per((x) => x.wall),
      };
    };
    const s = split(ph.samples.session);
    const r = split(ph.samples.raw);
    const L = 'jsdom, timed by phase';
    rows.push(row(F, `${L}: session.get() wall time per request`, s.wall, 'µs'));
    rows.push(row(F, `${L}: raw XHR wall time per request`, r.wall, 'µs'));
    rows.push(row(F, `${L}: in jsdom's XHR calls and getters, session`, s.xhr, 'µs'));
    rows.push(row(F, `${L}: in jsdom's XHR calls and getters, raw`, r.xhr, 'µs'));
    rows.push(row(F, `${L}: the library's own JS and wasm`, s.own, 'µs'));
    rows.push(row(F, `${L}: the raw client's own JS`, r.own, 'µs'));
    rows.push(row(F, `${L}: rest (event loop, jsdom network, GC), session`, s.rest, 'µs'));
    rows.push(row(F, `${L}: rest (event loop, jsdom network, GC), raw`, r.rest, 'µs'));
    const nonOk = [...ph.samples.session, ...ph.samples.raw].reduce((n, x) => n + x.bad, 0);
    if (nonOk) rows.push(row(F, `${L}: responses other than 200`, nonOk, 'count'));
  }
}

if (results.client) {
  const F = '4 refresh fan-in';
  const f = results.client.fanIn;
  const refreshes = summarize(f.samples.map((x) => x.refreshes));
  rows.push(row(F, `POST /auth/refresh per ${f.concurrency} concurrent expired GETs`, refreshes, 'count',
    { target: `= ${T.fanInRefreshes} (every sample)`, met: refreshes.min === T.fanInRefreshes && refreshes.max === T.fanInRefreshes }));
  rows.push(row(F, `time until all ${f.concurrency} settled`, summarize(f.samples.map((x) => x.ms)), 'ms'));
  rows.push(row(F, `GETs answered 200 (of ${f.concurrency})`, summarize(f.samples.map((x) => x.ok)), 'count'));
}

if (results.client) {
  const F = '5 logout';
  const l = results.client.logout;
  const ev = summarize(l.samples.map((x) => x.eventMs));
  rows.push(row(F, 'logout() call → auth:logout event (backend hanging)', ev, 'ms',
    { target: `≤ ${T.logoutEventMs} ms`, met: ev.median <= T.logoutEventMs }));
  rows.push(row(F, `logout() resolved (logoutTimeoutMs ${l.timeoutMs})`, summarize(l.samples.map((x) => x.resolveMs)), 'ms'));
  const over = summarize(l.samples.map((x) => x.resolveMs - l.timeoutMs));
  rows.push(row(F, 'resolution − logoutTimeoutMs', over, 'ms',
    { target: `≤ ${T.logoutOverrunMs} ms (every sample)`, met: over.max <= T.logoutOverrunMs }));
}

if (results.memory) {
  const F = '6 memory';
  const m = results.memory;
  const count = (n) => n.toLocaleString('en-US');
  const first = m.checkpoints.find((c) => c.cycles === m.options.baseline);
  const last = m.checkpoints[m.checkpoints.length - 1];
  const span = `${count(first.cycles)} → ${count(last.cycles)}`;
  rows.push({
    figure: F,
    measure: `cycles run: ${count(m.cycles)} in ${(m.cycleMs / 1000).toFixed(1)} s (${m.msPerCycle.toFixed(2)} ms/cycle; ` +
      `${(m.totalMs / 1000).toFixed(1)} s with snapshots), no time cap`,
    median: '', range: '', n: '', target: '', met: '',
  });
  rows.push({
    figure: F,
    measure: `transport: ${m.options.transport === 'node-http' ? 'node:http XMLHttpRequest (lib/node-xhr.mjs)' : "jsdom's XMLHttpRequest"}; ` +
      `backend: SQLite ${m.backend.db === 'memory' ? 'in memory' : 'file'}, scrypt N=${m.backend.scryptN}`,
    median: '', range: '', n: '', target: '', met: '',
  });
  if (!m.wasmMemoryFound) {
    rows.push({ figure: F, measure: 'wasm memory not found (no instance matched cleanslate.wasm): wasm rows are empty', median: '', range: '', n: '', target: '', met: '' });
  }
  const diff = (k) => last[k].median - first[k].median;
  const wasmGrowth = diff('wasmBytes');
  rows.push(row(F, `wasm memory (buffer byteLength) after ${count(first.cycles)}`, first.wasmBytes, 'B'));
  rows.push(row(F, `wasm memory (buffer byteLength) after ${count(last.cycles)}`, last.wasmBytes, 'B'));
  rows.push(row(F, `wasm memory growth ${span}`, wasmGrowth, 'B',
    { target: '≤ 64 KiB (65,536 B)', met: wasmGrowth <= T.wasmGrowthBytes }));
  const topGrowth = diff('wasmHeapTop');
  rows.push(row(F, `wasm heap high-water (top used byte) after ${count(first.cycles)}`, first.wasmHeapTop, 'B'));
  rows.push(row(F, `wasm heap high-water (top used byte) after ${count(last.cycles)}`, last.wasmHeapTop, 'B'));
  rows.push(row(F, `wasm heap high-water growth ${span}`, topGrowth, 'B',
    { target: '≤ 64 KiB (65,536 B)', met: topGrowth <= T.wasmGrowthBytes }));
  const trend = m.checkpoints.filter((c) => c.cycles >= first.cycles);
  const perCycle = (k) => slope(trend.map((c) => c.cycles), trend.map((c) => c[k].median));
  rows.push(row(F, `JS heapUsed after gc, after ${count(first.cycles)}`, first.heapUsed, 'B'));
  rows.push(row(F, `JS heapUsed after gc, after ${count(last.cycles)}`, last.heapUsed, 'B'));
  rows.push(row(F, `JS heapUsed growth ${span}`, diff('heapUsed'), 'B'));
  rows.push(row(F, `JS heapUsed trend (least squares, ${trend.length} checkpoints)`, perCycle('heapUsed'), 'B/cycle'));
  rows.push(row(F, `RSS growth ${span}`, diff('rss'), 'B'));
  if (m.failures) rows.push(row(F, 'failed steps (login/GET/logout)', m.failures, 'count'));
}

const table = renderTable(rows);
const notes = [
  results.size && `1 KB = 1000 B. Reference sizes are fixed numbers measured elsewhere (esbuild --bundle --minify + gzip -9), JS only.`,
  (results.client || results.inMemory || (results.browser && results.browser.overhead)) &&
    `Per-request: n = rounds; each round is ${PLAN.overhead.perBlock} requests of each kind in jsdom (${PLAN.browserOverhead.perBlock} in Chromium, ${PLAN.inMemory.perBlock} in memory), alternating in blocks of ${PLAN.overhead.chunk} (${PLAN.inMemory.chunk} in memory); the ratio is taken per round.`,
  results.phases &&
    `Timed by phase: a separate jsdom run with timers wrapped around jsdom's XHR, the load handlers and the glue's microtasks (slower than the plain run); ${PLAN.phases.perBlock} requests of each kind per round, alternating.`,
  results.memory && `Memory rows: median of ${results.memory.options.reads} reads after gc() at each checkpoint (one run); growth compares medians.`,
  only !== SECTIONS && `Sections run (--only): ${only.join(', ')}.`,
  `Node ${results.node}, ${results.cpus} CPUs, ${results.browser && results.browser.version ? `Chromium ${results.browser.version}, ` : ''}` +
    `load average ${results.loadAverageAtStart[0].toFixed(2)} at start, ${results.loadAverageAtEnd[0].toFixed(2)} at end.`,
  `Total runtime ${(results.totalMs / 1000).toFixed(1)} s.` +
    (results.distChangedDuringRun ? ' WARNING: web/dist changed during the run; figures may mix two builds.' : ''),
].filter(Boolean);
process.stdout.write(`${table}\n\n${notes.join('\n')}\n`);

results.table = table;
writeFileSync(join(BENCH_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
progress('wrote bench/results.json');
