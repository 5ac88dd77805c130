// Figure 3's measuring loop: session.get() against a raw XMLHttpRequest,
// shared by children/client.mjs (jsdom), children/inmemory.mjs (in-memory XHR)
// and the Chromium bench page (lib/browser.mjs serves this file next to it).
// It imports nothing and uses only the globals performance and XMLHttpRequest,
// so the same source runs in Node and in the page.

// What a hand-written client sends for the same call: the same headers, and
// the JSON body parsed.
export function rawGet(url, token) {
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

// Sequential session.get(path) against sequential rawGet(url, token), after
// `warmup` requests of each kind. Each round is perBlock requests of each kind,
// run in alternating sub-blocks of `chunk` (session first, then raw first), so
// changes in machine load hit both sides alike. sessionMs[r] and rawMs[r] are
// round r's total time per kind, so the session/raw ratio can be taken per
// round; nonOk counts responses other than 200 on either side.
export async function measureOverhead({ session, path, url, token }, { rounds, perBlock, chunk, warmup }) {
  let bad = 0;
  const runSession = async (n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) if ((await session.get(path)).status !== 200) bad++;
    return performance.now() - t0;
  };
  const runRaw = async (n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) if ((await rawGet(url, token)).status !== 200) bad++;
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
  return { rounds, perBlock, chunk, warmup, sessionMs, rawMs, nonOk: bad };
}
