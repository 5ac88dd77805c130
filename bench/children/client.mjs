// Figures 3–5 in Node: per-request overhead against raw XMLHttpRequest,
// refresh fan-in and logout latency, with jsdom globals and the reference
// backend in its own process. Usage: node client.mjs '<json options>'
import { performance } from 'node:perf_hooks';
import { installDom } from '../../tests/node/jsdom-globals.mjs';
import { startBackend } from '../lib/backend.mjs';
import { report } from '../lib/child.mjs';
import { measureOverhead } from '../lib/overhead.mjs';
import { DIST_ENTRY_URL } from '../lib/paths.mjs';

const opts = JSON.parse(process.argv[2] || '{}');
const USER = { email: 'userA@test.com', password: 'password' };
const FAN_IN_TTL_SEC = 60;

const backend = await startBackend({ accessTtlSec: FAN_IN_TTL_SEC });
installDom(`${backend.url}/`);
const { createSession } = await import(DIST_ENTRY_URL);
const result = { backendPid: backend.pid };

async function loggedIn(options = {}) {
  const session = await createSession({ apiBase: backend.apiBase, ...options });
  const r = await session.login(USER.email, USER.password);
  if (!r.success) throw new Error(`login failed: ${r.code} ${r.error}`);
  return session;
}

// ---- 3. per-request overhead (loop in lib/overhead.mjs) -------------------

async function overhead(plan) {
  const session = await loggedIn();
  const measured = await measureOverhead({
    session,
    path: '/user/profile',
    url: `${backend.apiBase}/user/profile`,
    token: localStorage.getItem('access_token'),
  }, plan);
  session.dispose();
  return measured;
}

// ---- 4. refresh fan-in -----------------------------------------------------

async function fanIn({ samples, concurrency }) {
  const session = await loggedIn({ refreshLeewaySec: 0 });
  const out = [];
  for (let s = 0; s < samples; s++) {
    // Past the access token's exp on the backend; the client's clock is untouched,
    // so its proactive refresh does not race the 401s.
    await backend.advanceClock((FAN_IN_TTL_SEC + 5) * 1000);
    const before = await backend.stats();
    const t0 = performance.now();
    const settled = await Promise.allSettled(Array.from({ length: concurrency }, () => session.get('/user/profile')));
    const ms = performance.now() - t0;
    const after = await backend.stats();
    out.push({
      ms,
      refreshes: after.refresh - before.refresh,
      profileHits: after.profile - before.profile,
      ok: settled.filter((x) => x.status === 'fulfilled' && x.value.status === 200).length,
      failed: settled.filter((x) => x.status !== 'fulfilled' || x.value.status !== 200)
        .slice(0, 3).map((x) => (x.status === 'fulfilled' ? x.value.status : x.reason.code)),
    });
  }
  session.dispose();
  return { samples: out, concurrency };
}

// ---- 5. logout latency -------------------------------------------------------

async function logoutLatency({ samples, timeoutMs }) {
  await backend.fault('POST /auth/logout', { mode: 'hang' });
  const session = await createSession({ apiBase: backend.apiBase, logoutTimeoutMs: timeoutMs });
  let eventAt = NaN;
  const onLogout = () => { eventAt = performance.now(); };
  globalThis.addEventListener('auth:logout', onLogout);
  const out = [];
  for (let s = 0; s < samples; s++) {
    const r = await session.login(USER.email, USER.password);
    if (!r.success) throw new Error(`login failed: ${r.code}`);
    eventAt = NaN;
    const t0 = performance.now();
    const res = await session.logout();
    const t1 = performance.now();
    out.push({ eventMs: eventAt - t0, resolveMs: t1 - t0, backendNotified: res.backendNotified, success: res.success });
  }
  globalThis.removeEventListener('auth:logout', onLogout);
  session.dispose();
  await backend.clearFaults();
  return { timeoutMs, samples: out };
}

try {
  result.sectionMs = {};
  for (const [name, fn] of [['overhead', overhead], ['fanIn', fanIn], ['logout', logoutLatency]]) {
    if (!opts[name]) continue;
    const t0 = performance.now();
    result[name] = await fn(opts[name]);
    result.sectionMs[name] = performance.now() - t0;
  }
} finally {
  await backend.close();
}
report(result);
process.exit(0);
