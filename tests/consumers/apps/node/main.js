// A Node ESM consumer of the installed package: browser globals from jsdom
// (argv[3] is jsdom's file URL; it is not this app's dependency), then login →
// profile → logout against the backend at argv[2], and where the package's
// wasm and React entry resolve. Prints one JSON line.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const [, , origin, jsdomUrl] = process.argv;
const { JSDOM } = await import(jsdomUrl);
const { window } = new JSDOM('', { url: `${origin}/` });
for (const name of ['XMLHttpRequest', 'localStorage', 'sessionStorage', 'CustomEvent', 'location']) {
  globalThis[name] = window[name];
}
globalThis.dispatchEvent = window.dispatchEvent.bind(window);
globalThis.addEventListener = window.addEventListener.bind(window);

const { createSession, SessionError } = await import('cleanslate-session');
const session = await createSession({ apiBase: '/api/v1' });
const login = await session.login('userA@test.com', 'password');
const profile = await session.get('/user/profile');
let error = null;
try {
  await session.get('http://127.0.0.1:9/unreachable'); // the discard port: nothing listens
} catch (e) {
  error = { isSessionError: e instanceof SessionError, code: e.code };
}
const logout = await session.logout();
session.dispose();
console.log(JSON.stringify({
  login,
  profile: profile.data,
  logout,
  error,
  wasm: {
    importMetaResolve: fileURLToPath(import.meta.resolve('cleanslate-session/cleanslate.wasm')),
    requireResolve: createRequire(import.meta.url).resolve('cleanslate-session/cleanslate.wasm'),
  },
  // Resolved, not imported: React, its peer dependency, is not installed here.
  react: fileURLToPath(import.meta.resolve('cleanslate-session/react')),
}));
process.exit(0);
