// Starts children/backend.mjs (the reference backend with a throw-away
// database) and gives a small async handle on it.
import { fork } from 'node:child_process';
import { childScript } from './paths.mjs';

// scrypt cost of the bench backend's password hashes (startServer's scryptN;
// the server's default is 2^14, ~50 ms per hash). The bench logs in tens of
// thousands of times and measures the client, so the backend's password
// hashing is kept near free: one N=16 hash costs well under a millisecond.
export const BENCH_SCRYPT_N = 16;

export async function startBackend(options = {}) {
  const child = fork(childScript('backend.mjs'), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const pending = new Map();
  let nextId = 1;
  let exited = false;
  child.on('message', ({ id, ok, value, error }) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (ok) p.resolve(value);
    else p.reject(new Error(`backend: ${error}`));
  });
  const exitPromise = new Promise((resolve) => child.on('exit', resolve));
  child.on('exit', (code) => {
    exited = true;
    for (const p of pending.values()) p.reject(new Error(`backend exited (${code}): ${stderr.slice(-2000)}`));
    pending.clear();
  });
  const rpc = (cmd, arg) => new Promise((resolve, reject) => {
    if (exited) {
      reject(new Error('backend is not running'));
      return;
    }
    const id = nextId++;
    pending.set(id, { resolve, reject });
    child.send({ id, cmd, arg });
  });

  // Login attempts are not rate limited here: the bench logs in thousands of times.
  const startOptions = { loginRateLimit: { perAccount: 0, perAddress: 0 }, scryptN: BENCH_SCRYPT_N, ...options };
  const { url, apiBase } = await rpc('start', startOptions);
  return {
    url,
    apiBase,
    scryptN: startOptions.scryptN,
    pid: child.pid,
    stats: () => rpc('stats'),
    fault: (route, spec) => rpc('fault', { route, spec }),
    clearFaults: () => rpc('clearFaults'),
    advanceClock: (ms) => rpc('advanceClock', ms),
    async close() {
      if (exited) return;
      try {
        await rpc('close');
      } finally {
        child.disconnect();
        await exitPromise;
      }
    },
  };
}
