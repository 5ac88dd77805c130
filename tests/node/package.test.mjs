// The package people install: `npm pack`, install the tarball into an empty
// folder, import it by name in a fresh Node process with jsdom globals, and
// log in against the reference backend.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBackend } from './helpers.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let server;
let dir;

before(async () => {
  server = await startBackend();
  dir = mkdtempSync(join(tmpdir(), 'cleanslate-pack-'));
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('npm pack → install → import by name → login works', async () => {
  const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], ROOT));
  const tarball = join(dir, packed[0].filename);
  const files = packed[0].files.map((f) => f.path).sort();
  assert.deepEqual(files, ['LICENSE', 'README.md', 'docs/CONTRACT.md', 'package.json', 'web/dist/cleanslate.d.ts',
    'web/dist/cleanslate.mjs', 'web/dist/cleanslate.wasm']);
  console.log(`packed tarball: ${statSync(tarball).size} bytes, ${files.length} files`);

  const app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  npm(['install', '--no-audit', '--no-fund', '--offline', tarball], app);
  assert.ok(readdirSync(join(app, 'node_modules', 'cleanslate-session', 'web', 'dist')).includes('cleanslate.wasm'));

  const jsdomUrl = pathToFileURL(join(ROOT, 'node_modules', 'jsdom', 'lib', 'api.js')).href;
  writeFileSync(join(app, 'check.mjs'), `
    const { JSDOM } = await import(${JSON.stringify(jsdomUrl)});
    const { window } = new JSDOM('', { url: process.argv[2] + '/' });
    for (const k of ['XMLHttpRequest', 'localStorage', 'sessionStorage', 'CustomEvent', 'location']) globalThis[k] = window[k];
    globalThis.dispatchEvent = window.dispatchEvent.bind(window);
    globalThis.addEventListener = window.addEventListener.bind(window);
    const { createSession, SessionError } = await import('cleanslate-session');
    const session = await createSession({ apiBase: '/api/v1' });
    const login = await session.login('userA@test.com', 'password');
    const profile = await session.get('/user/profile');
    const logout = await session.logout();
    session.dispose();
    console.log(JSON.stringify({ login, profile: profile.data, logout, hasError: typeof SessionError === 'function' }));
    process.exit(0);
  `);
  // Asynchronously: the backend runs in this process and must keep answering.
  const { stdout: out } = await promisify(execFile)(process.execPath, ['check.mjs', server.url], { cwd: app, encoding: 'utf8', timeout: 30000 });
  const result = JSON.parse(out.trim().split('\n').at(-1));
  assert.equal(result.login.success, true);
  assert.equal(result.login.user.email, 'userA@test.com');
  assert.equal(result.profile.email, 'userA@test.com');
  assert.equal(result.logout.success, true);
  assert.equal(result.hasError, true);
});
