// Figure 3, CPU only: session.get() against a raw request, both over an
// in-memory XMLHttpRequest (lib/fake-xhr.mjs), interleaved like client.mjs.
// The difference is what the library itself costs per request, free of
// network and server noise. Usage: node inmemory.mjs '<json options>'
import { performance } from 'node:perf_hooks';
import { installDom } from '../lib/dom.mjs';
import { InMemoryXMLHttpRequest } from '../lib/fake-xhr.mjs';
import { report } from '../lib/child.mjs';
import { DIST_ENTRY_URL } from '../lib/paths.mjs';

const { rounds, perBlock, chunk, warmup } = JSON.parse(process.argv[2] || '{}');
const ORIGIN = 'http://127.0.0.1:9';
installDom(`${ORIGIN}/`);
globalThis.XMLHttpRequest = InMemoryXMLHttpRequest;
const { createSession } = await import(DIST_ENTRY_URL);
const session = await createSession({ apiBase: `${ORIGIN}/api/v1` });
const url = `${ORIGIN}/api/v1/user/profile`;
const token = 'header.payload.signature';

function rawGet() {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('GET', url);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
    xhr.setRequestHeader('Pragma', 'no-cache');
    xhr.setRequestHeader('Expires', '0');
    xhr.onload = () => resolve({ status: xhr.status, data: JSON.parse(xhr.responseText) });
    xhr.onerror = () => reject(new Error('network'));
    xhr.send();
  });
}

let bad = 0;
const runSession = async (n) => {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if ((await session.get('/user/profile')).status !== 200) bad++;
  return performance.now() - t0;
};
const runRaw = async (n) => {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if ((await rawGet()).status !== 200) bad++;
  return performance.now() - t0;
};

await runSession(warmup);
await runRaw(warmup);
const sessionMs = [];
const rawMs = [];
let flip = false;
for (let r = 0; r < rounds; r++) {
  let s = 0;
  let w = 0;
  for (let done = 0; done < perBlock; done += chunk) {
    const n = Math.min(chunk, perBlock - done);
    flip = !flip;
    if (flip) {
      s += await runSession(n);
      w += await runRaw(n);
    } else {
      w += await runRaw(n);
      s += await runSession(n);
    }
  }
  sessionMs.push(s);
  rawMs.push(w);
}
session.dispose();
report({ rounds, perBlock, chunk, warmup, sessionMs, rawMs, nonOk: bad });
process.exit(0);
