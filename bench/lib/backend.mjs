// Starts children/backend.mjs (the reference backend with a throw-away
// database) and gives a small async handle on it.
import { fork } from 'node:child_process';
import { childScript } from './paths.mjs';

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
  const { url, apiBase } = await rpc('start', { loginRateLimit: { perAccount: 0, perAddress: 0 }, ...options });
  return {
    url,
    apiBase,
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
