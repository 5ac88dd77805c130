// Figure 3, CPU only: session.get() against a raw request, both over an
// in-memory XMLHttpRequest (lib/fake-xhr.mjs), with the same interleaved loop
// as client.mjs (lib/overhead.mjs). The difference is what the library itself
// costs per request, free of network and server noise.
// Usage: node inmemory.mjs '<json options>'
import { installDom } from '../../tests/node/jsdom-globals.mjs';
import { InMemoryXMLHttpRequest } from '../lib/fake-xhr.mjs';
import { measureOverhead } from '../lib/overhead.mjs';
import { report } from '../lib/child.mjs';
import { DIST_ENTRY_URL } from '../lib/paths.mjs';

const plan = JSON.parse(process.argv[2] || '{}');
const ORIGIN = 'http://127.0.0.1:9';
installDom(`${ORIGIN}/`);
globalThis.XMLHttpRequest = InMemoryXMLHttpRequest;
const { createSession } = await import(DIST_ENTRY_URL);
const session = await createSession({ apiBase: `${ORIGIN}/api/v1` });
// Logged in, as in figure 3: each request then reads the stored access token
// and sends it.
const login = await session.login('userA@test.com', 'password');
if (!login.success) throw new Error(`login over the in-memory XHR failed: ${login.code} ${login.error}`);

const result = await measureOverhead({
  session,
  path: '/user/profile',
  url: `${ORIGIN}/api/v1/user/profile`,
  token: localStorage.getItem('access_token'),
}, plan);
session.dispose();
report(result);
process.exit(0);
