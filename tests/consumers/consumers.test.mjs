// The package as its users get it. A tarball packed from a fresh copy of the
// tracked files (no web/dist: prepack must build it) is installed, by file,
// into small apps built with Vite, webpack 5, esbuild and Rollup, each run in
// Chromium against the reference backend on the page's own origin; into a
// Node ESM app with jsdom globals; and into a TypeScript project compiled by
// tsc --strict. The apps' sources are in tests/consumers/apps/<name>/ (the
// bundler apps share apps/browser-app.js).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import {
  chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync,
  statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startServer } from '../../web/server/app.mjs';
import { launchBrowser } from '../browser/helpers.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APPS = join(ROOT, 'tests', 'consumers', 'apps');
const BIN = join(ROOT, 'node_modules', '.bin');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
// The apps do not depend on jsdom; the Node app imports the checkout's by URL.
const JSDOM_URL = pathToFileURL(join(ROOT, 'node_modules', 'jsdom', 'lib', 'api.js')).href;
const PACKAGE = 'cleanslate-session';
const MINUTE = 60_000;

const work = mkdtempSync(join(tmpdir(), 'cleanslate-consumers-'));
let browser = null;
after(async () => {
  if (browser) await browser.close();
  rmSync(work, { recursive: true, force: true });
});

const execFileAsync = promisify(execFile);
// Asynchronous, so a backend running in this process keeps answering.
function run(file, args, { cwd, env = {}, timeout = 5 * MINUTE } = {}) {
  return execFileAsync(file, args, {
    cwd, timeout, encoding: 'utf8', maxBuffer: 32 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', ...env },
  }).catch((error) => {
    error.message += `\n--- stdout\n${error.stdout}\n--- stderr\n${error.stderr}`;
    throw error;
  });
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

// ---- the tarball ------------------------------------------------------------

// The copy's node_modules links to this checkout's install. prepack's bootstrap
// reinstalls when it thinks node_modules is stale; through the link that would
// empty the install every checkout shares, so here any npm that would write
// node_modules stops with a message instead.
function npmGuard() {
  const dir = join(work, 'npm-guard');
  const realNpm = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'npm'), `#!/bin/sh
case "$1" in ci|install|i|add|update|uninstall|rebuild|dedupe|prune)
  echo "consumers test: prepack ran 'npm $1' in a copy whose node_modules is a link to the checkout's install; refused so that install is not replaced (is node_modules installed from this package-lock.json?)" >&2
  exit 97 ;;
esac
exec ${JSON.stringify(realNpm)} "$@"
`);
  chmodSync(join(dir, 'npm'), 0o755);
  return dir;
}

async function packFreshCopy() {
  const copy = join(work, 'clone');
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of tracked) {
    if (!existsSync(join(ROOT, file))) continue; // deleted in the work tree, not yet committed
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(ROOT, file), join(copy, file), { verbatimSymlinks: true });
  }
  assert.ok(!existsSync(join(copy, 'web', 'dist')), 'web/dist is not tracked');
  assert.ok(!existsSync(join(copy, 'build')), 'build/ is not tracked');
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(copy, 'node_modules'));

  const started = Date.now();
  const { stdout, stderr } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: copy, env: { PATH: `${npmGuard()}:${process.env.PATH}` }, timeout: 15 * MINUTE,
  });
  const [packed] = JSON.parse(stdout);
  return { copy, packed, log: stderr, tarball: join(work, packed.filename), seconds: (Date.now() - started) / 1000 };
}

let packing = null;
const packOnce = () => (packing ??= packFreshCopy());
const tarball = async () => (await packOnce()).tarball;

// The bundler apps share one source (apps/browser-app.js, their main.js);
// each has its own index.html.
const BROWSER_APPS = new Set(['vite', 'webpack', 'esbuild', 'rollup']);

// An app folder in `work`: the fixture's files, a package.json and the tarball
// installed from file as a user would (no registry needed: no dependencies).
async function installApp(name) {
  const dir = join(work, name);
  cpSync(join(APPS, name), dir, { recursive: true });
  if (BROWSER_APPS.has(name)) cpSync(join(APPS, 'browser-app.js'), join(dir, 'main.js'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }, null, 2));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', await tarball()], { cwd: dir });
  const installed = join(dir, 'node_modules', PACKAGE, 'web', 'dist');
  for (const f of ['cleanslate.mjs', 'cleanslate.wasm', 'cleanslate.d.ts', 'react.mjs', 'react.d.ts']) assert.ok(existsSync(join(installed, f)), f);
  return dir;
}

test('npm pack in a fresh copy of the tracked files builds web/dist (prepack) and packs it', { timeout: 20 * MINUTE }, async (t) => {
  const { copy, packed, log, tarball: file, seconds } = await packOnce();
  t.diagnostic(`fresh-copy npm pack (wasm build included): ${seconds.toFixed(1)} s, tarball ${statSync(file).size} B`);
  const sizes = new Map(packed.files.map((f) => [f.path, f.size]));
  for (const f of ['web/dist/cleanslate.mjs', 'web/dist/cleanslate.wasm', 'web/dist/cleanslate.d.ts', 'web/dist/react.mjs', 'web/dist/react.d.ts', 'package.json']) {
    assert.ok(sizes.get(f) > 0, `the tarball holds ${f}`);
  }
  for (const f of sizes.keys()) {
    assert.match(f, /^(web\/dist\/[^/]+|docs\/[^/]+\.md|package\.json|README\.md|LICENSE)$/, `nothing but the package's files: ${f}`);
  }
  // Built there and then: the copy's own build tree, the bundle step's report.
  assert.ok(existsSync(join(copy, 'build', 'wasm', 'cleanslate_core.wasm')), 'prepack compiled the wasm in the copy');
  assert.ok(existsSync(join(copy, 'web', 'dist', 'cleanslate.wasm')), 'prepack built web/dist in the copy');
  assert.match(log, /bundle: cleanslate\.mjs \d+ B/);
  assert.equal(packed.name, PACKAGE);
});

// ---- the browser apps -------------------------------------------------------

// Builds the app with one bundler, serves `served` (relative to the app) at "/"
// of a reference backend, opens it in Chromium and checks what the page did.
async function browserApp(t, name, { build, step, served, output }) {
  const dir = await installApp(name);
  await build(dir);
  if (step) step(dir);
  const out = join(dir, output);
  const root = join(dir, served);

  const sizes = [];
  for (const file of filesUnder(out)) {
    const bytes = readFileSync(file);
    if (/\.(m?js)$/.test(file)) assert.ok(!bytes.toString('utf8').includes('node:'), `${relative(dir, file)} names no node: module`);
    sizes.push(`${relative(out, file)} ${bytes.length} B (${gzipSync(bytes, { level: 9 }).length} B gzip)`);
  }
  t.diagnostic(`${name} output: ${sizes.join(', ')}`);

  browser ??= await launchBrowser('chromium');
  const server = await startServer({ port: 0, dbPath: join(work, `${name}.sqlite`), staticDirs: { '/': root } });
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    const wasm = [];
    const errors = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.endsWith('.wasm')) wasm.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] });
    });
    page.on('pageerror', (e) => errors.push(String(e?.stack ?? e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => window.appResult !== undefined, { timeout: 3 * MINUTE });
    const result = await page.evaluate(() => window.appResult);

    assert.equal(result.error, undefined, result.error);
    assert.equal(result.login.success, true, JSON.stringify(result.login));
    assert.equal(result.login.user.email, 'userA@test.com');
    assert.equal(result.profile.status, 200);
    assert.equal(result.profile.data.email, 'userA@test.com');
    assert.equal(result.logout.success, true);
    assert.equal(result.sessionError, true);
    assert.deepEqual(errors, []);

    assert.equal(wasm.length, 1, JSON.stringify(wasm));
    const [loaded] = wasm;
    assert.equal(loaded.status, 200);
    assert.equal(loaded.type, 'application/wasm');
    assert.equal(new URL(loaded.url).origin, server.url);
    // The bundle's own copy, not the one inside node_modules.
    const file = join(root, decodeURIComponent(new URL(loaded.url).pathname));
    assert.ok(file.startsWith(out + sep) && existsSync(file), `${loaded.url} is served from the build output`);
    assert.deepEqual(readFileSync(file), readFileSync(join(dir, 'node_modules', PACKAGE, 'web', 'dist', 'cleanslate.wasm')));
  } finally {
    await context.close();
    await server.close();
  }
}

// esbuild and Rollup leave `new URL('./cleanslate.wasm', import.meta.url)` as
// it is: the one step is copying the binary next to the bundle.
function copyWasm(dir) {
  cpSync(join(dir, 'node_modules', PACKAGE, 'web', 'dist', 'cleanslate.wasm'), join(dir, 'dist', 'cleanslate.wasm'));
}

test('Vite: `vite build`, nothing else; the app logs in, reads the profile and logs out in Chromium', { timeout: 30 * MINUTE }, (t) =>
  browserApp(t, 'vite', {
    build: (dir) => run(join(BIN, 'vite'), ['build'], { cwd: dir }),
    served: 'dist',
    output: 'dist',
  }));

test('webpack 5: `webpack ./main.js --mode production`, nothing else; the app logs in, reads the profile and logs out in Chromium', { timeout: 30 * MINUTE }, (t) =>
  browserApp(t, 'webpack', {
    build: (dir) => run(join(BIN, 'webpack'), ['./main.js', '--mode', 'production'], { cwd: dir }),
    served: '.',
    output: 'dist',
  }));

test('esbuild: `esbuild --bundle --format=esm` plus the .wasm copied next to the bundle; the app logs in, reads the profile and logs out in Chromium; cleanslate-session/react bundles on its own, and the app\'s bundle holds nothing of React', { timeout: 30 * MINUTE }, (t) =>
  browserApp(t, 'esbuild', {
    build: async (dir) => {
      await run(join(BIN, 'esbuild'), ['main.js', '--bundle', '--format=esm', '--outdir=dist'], { cwd: dir });
      await run(join(BIN, 'esbuild'), ['react-entry.js', '--bundle', '--format=esm', '--external:react', '--outfile=react-out/react-entry.js'], { cwd: dir });
      const binding = readFileSync(join(dir, 'react-out', 'react-entry.js'), 'utf8');
      assert.match(binding, /from ["']react["']/, 'the binding imports React');
      assert.match(binding, /\bSessionProvider\b/);
      const app = readFileSync(join(dir, 'dist', 'main.js'), 'utf8');
      assert.ok(!/["']react["']|useSyncExternalStore/.test(app), 'the core entry pulls in nothing of React');
    },
    step: copyWasm,
    served: '.',
    output: 'dist',
  }));

test('Rollup: `rollup -p node-resolve` plus the .wasm copied next to the bundle; the app logs in, reads the profile and logs out in Chromium', { timeout: 30 * MINUTE }, (t) =>
  browserApp(t, 'rollup', {
    build: (dir) => run(join(BIN, 'rollup'), ['main.js', '--file', 'dist/main.js', '--format', 'es', '--plugin', 'node-resolve'], { cwd: dir }),
    step: copyWasm,
    served: '.',
    output: 'dist',
  }));

// ---- Node -------------------------------------------------------------------

test('Node ESM: import by name with jsdom globals, login → profile → logout; cleanslate-session/cleanslate.wasm and cleanslate-session/react resolve to their files', { timeout: 30 * MINUTE }, async () => {
  const dir = await installApp('node');
  const dbDir = mkdtempSync(join(work, 'node-db-'));
  const server = await startServer({ port: 0, dbPath: join(dbDir, 'test.sqlite') });
  try {
    const { stdout } = await run(process.execPath, ['main.js', server.url, JSDOM_URL], { cwd: dir, timeout: 2 * MINUTE });
    const result = JSON.parse(stdout.trim().split('\n').at(-1));
    assert.equal(result.login.success, true, JSON.stringify(result.login));
    assert.equal(result.login.user.email, 'userA@test.com');
    assert.equal(result.profile.email, 'userA@test.com');
    assert.equal(result.logout.success, true);
    assert.deepEqual(result.error, { isSessionError: true, code: 'network' });
    const wasm = realpathSync(join(dir, 'node_modules', PACKAGE, 'web', 'dist', 'cleanslate.wasm'));
    assert.equal(realpathSync(result.wasm.importMetaResolve), wasm);
    assert.equal(realpathSync(result.wasm.requireResolve), wasm);
    const react = realpathSync(join(dir, 'node_modules', PACKAGE, 'web', 'dist', 'react.mjs'));
    assert.equal(realpathSync(result.react), react, 'cleanslate-session/react resolves to web/dist/react.mjs');
  } finally {
    await server.close();
  }
});

// ---- TypeScript -------------------------------------------------------------

test('TypeScript: check.ts and react.ts use every exported type and compile with tsc --strict (bundler and node16 resolution), react.ts without @types/react; node.ts without the DOM lib', { timeout: 30 * MINUTE }, async () => {
  const dir = await installApp('typescript');
  const exportsOf = (file) => [...readFileSync(join(dir, 'node_modules', PACKAGE, 'web', 'dist', file), 'utf8')
    .matchAll(/^export (?:declare )?(?:type|interface|class|function|const|enum) (\w+)/gm)].map((m) => m[1]);
  for (const [dtsFile, tsFile, least] of [['cleanslate.d.ts', 'check.ts', 10], ['react.d.ts', 'react.ts', 5]]) {
    const source = readFileSync(join(dir, tsFile), 'utf8');
    const exported = exportsOf(dtsFile);
    assert.ok(exported.length >= least, `exports found in ${dtsFile}: ${exported}`);
    for (const name of exported) assert.match(source, new RegExp(`\\b${name}\\b`), `${tsFile} uses ${name}`);
    assert.ok((source.match(/@ts-expect-error/g) || []).length >= least, `${tsFile} proves the types are narrow`);
  }
  const dts = readFileSync(join(dir, 'node_modules', PACKAGE, 'web', 'dist', 'cleanslate.d.ts'), 'utf8');
  assert.ok(!existsSync(join(dir, 'node_modules', '@types', 'react')) && !existsSync(join(dir, 'node_modules', 'react')),
    'the project has no React: the binding\'s types must not need it');

  // Every error code the core (errors.h) and the entry (MESSAGES) can produce has a type.
  const union = (type) => {
    const body = new RegExp(`export type ${type} =([^;]+);`).exec(dts);
    assert.ok(body, `${type} in the d.ts`);
    return new Set([...body[1].matchAll(/'(\w+)'/g)].map((m) => m[1]));
  };
  const typed = new Set([...union('SessionErrorCode'), ...union('LoginErrorCode')]);
  const header = readFileSync(join(ROOT, 'wasm', 'core', 'errors.h'), 'utf8');
  const namespace = /kErrorCodeNames\[\] = \{([\s\S]*?)\};/.exec(header)[1];
  const entry = readFileSync(join(ROOT, 'web', 'src', 'cleanslate.js'), 'utf8');
  const messages = /const MESSAGES = \{([\s\S]*?)\};/.exec(entry)[1];
  const produced = [...namespace.matchAll(/"(\w+)"/g), ...messages.matchAll(/^\s*(\w+):/gm)].map((m) => m[1]);
  assert.ok(produced.length >= 10);
  for (const code of produced) assert.ok(typed.has(code), `error code '${code}' has a type`);

  const tsc = (args) => run(process.execPath, [TSC, '--strict', '--noEmit', ...args], { cwd: dir });
  await tsc(['--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', 'check.ts', 'react.ts', 'node.ts']);
  await tsc(['--module', 'node16', '--moduleResolution', 'node16', 'check.ts', 'react.ts', 'node.ts']);
  await tsc(['--module', 'node16', '--moduleResolution', 'node16', '--lib', 'es2022', 'node.ts']);
});
