// Figure 3c: where the time of one request goes in jsdom, for session.get()
// and for the raw XMLHttpRequest GET of figure 3, against the real backend.
// jsdom's XMLHttpRequest methods and getters, the glue's queued microtasks and
// the load handlers are wrapped with timers, so this run is slower than
// figure 3's and only its split is of interest, not its throughput.
// Usage: node phases.mjs '<json options>'
import { performance } from 'node:perf_hooks';
import { installDom } from '../../tests/node/jsdom-globals.mjs';
import { startBackend } from '../lib/backend.mjs';
import { report } from '../lib/child.mjs';
import { rawGet } from '../lib/overhead.mjs';
import { DIST_ENTRY_URL } from '../lib/paths.mjs';

const { rounds = 10, perBlock = 50, warmup = 200 } = JSON.parse(process.argv[2] || '{}');
const backend = await startBackend({ accessTtlSec: 3600 });
const window = installDom(`${backend.url}/`);
const { createSession } = await import(DIST_ENTRY_URL);
const session = await createSession({ apiBase: backend.apiBase });
const login = await session.login('userA@test.com', 'password');
if (!login.success) throw new Error(`login failed: ${login.code}`);
const token = localStorage.getItem('access_token');
const url = `${backend.apiBase}/user/profile`;

// Milliseconds spent inside each kind of call since the last reset. Nested
// timed calls are counted in both (a getter inside a load handler is in
// `load` and in `xhr`), and the split below subtracts them.
const spent = { call: 0, micro: 0, load: 0, xhr: 0 };
const timed = (key, fn) => function timedCall(...args) {
  const t0 = performance.now();
  try {
    return fn.apply(this, args);
  } finally {
    spent[key] += performance.now() - t0;
  }
};

// jsdom's XMLHttpRequest: constructor, methods and the getters a client reads.
const NativeXHR = window.XMLHttpRequest;
const proto = NativeXHR.prototype;
// Accessors live on the interface prototypes above XMLHttpRequest's own.
const redefine = (name, change) => {
  let owner = proto;
  let desc;
  while (owner && !(desc = Object.getOwnPropertyDescriptor(owner, name))) owner = Object.getPrototypeOf(owner);
  Object.defineProperty(owner, name, { ...desc, ...change(desc) });
};
for (const name of ['open', 'send', 'setRequestHeader', 'getAllResponseHeaders', 'getResponseHeader']) {
  proto[name] = timed('xhr', proto[name]);
}
for (const name of ['response', 'responseText', 'status', 'statusText', 'readyState']) {
  redefine(name, (desc) => ({ get: timed('xhr', desc.get) }));
}
// Load handlers: what runs when the answer arrives (the glue's onload for the
// session, JSON.parse and resolve for the raw request).
redefine('onload', (desc) => ({
  set(fn) { desc.set.call(this, typeof fn === 'function' ? timed('load', fn) : fn); },
}));
globalThis.XMLHttpRequest = function XMLHttpRequest() {
  const t0 = performance.now();
  try {
    return new NativeXHR();
  } finally {
    spent.xhr += performance.now() - t0;
  }
};
// Microtasks queued during a session call (the transport starts each request
// from one).
const nativeQueueMicrotask = globalThis.queueMicrotask;
globalThis.queueMicrotask = (fn) => nativeQueueMicrotask(timed('micro', fn));

const one = {
  session: timed('call', () => session.get('/user/profile')),
  raw: timed('call', () => rawGet(url, token)),
};

async function block(kind, n) {
  for (const key of Object.keys(spent)) spent[key] = 0;
  let bad = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if ((await one[kind]()).status !== 200) bad++;
  const wall = performance.now() - t0;
  return { wall, ...spent, bad };
}

for (const kind of Object.keys(one)) await block(kind, warmup);
const samples = { session: [], raw: [] };
for (let r = 0; r < rounds; r++) {
  for (const kind of r % 2 ? ['raw', 'session'] : ['session', 'raw']) samples[kind].push(await block(kind, perBlock));
}
session.dispose();
await backend.close();
report({ rounds, perBlock, warmup, samples });
process.exit(0);
