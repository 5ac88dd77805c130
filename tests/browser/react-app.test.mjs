// The whole app starts clean: a React 19 app on cleanslate-session/react
// (tests/browser/react-app/app.mjs, bundled here with esbuild and served by
// the reference backend) with a per-user cache — TanStack Query 5 with
// staleTime: Infinity, or SWR 2 — keyed without the user, and form state that
// starts from the data. A MutationObserver installed before the page's first
// script records every text, attribute and input value the page ever renders,
// in order; after A's session ends, nothing of A may appear in it, nor on the
// page at any check, even while B's own data is held back by the server. Runs in every browser of helpers.mjs.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  forEachBrowser, openPage, click, waitForText, waitForTestId, problems, storedTokens, USER_A, USER_B,
} from './helpers.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE = join(ROOT, 'tests', 'browser', 'react-app');
const ITEMS_ROUTE = 'GET /user/items';
// What only A's data holds: A's e-mail (the items' owner) and name (the item titles).
const TRACES_OF_A = [USER_A.email, USER_A.name];
const REFRESH_TTL_MS = 604_800_000; // the reference server's default refresh token lifetime

// The app, bundled once for the file. The core stays the module the server
// serves at /dist/ (it loads its .wasm beside itself); the binding is the
// built web/dist/react.mjs, as the package ships it. React's development
// build, so its warnings (an unstable getSnapshot, say) reach the console.
const appDir = mkdtempSync(join(tmpdir(), 'cleanslate-react-app-'));
after(() => rmSync(appDir, { recursive: true, force: true }));
await build({
  entryPoints: [join(SOURCE, 'app.mjs')],
  outfile: join(appDir, 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  define: { 'process.env.NODE_ENV': '"development"' },
  logLevel: 'warning',
  plugins: [{
    name: 'cleanslate-session',
    setup(b) {
      b.onResolve({ filter: /^cleanslate-session$/ }, () => ({ path: '/dist/cleanslate.mjs', external: true }));
      b.onResolve({ filter: /^cleanslate-session\/react$/ }, () => ({ path: join(ROOT, 'web', 'dist', 'react.mjs') }));
    },
  }],
});
copyFileSync(join(SOURCE, 'index.html'), join(appDir, 'index.html'));

/** Runs in the page before any of its scripts: records everything rendered, with a sequence number. */
function installRecorder() {
  const records = [];
  const marks = {};
  let seq = 0;
  const textsOf = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return [node.data];
    if (node.nodeType !== Node.ELEMENT_NODE) return [];
    const out = [node.textContent];
    for (const el of [node, ...node.querySelectorAll('*')]) {
      for (const attr of el.attributes) out.push(attr.value);
      if ('value' in el && typeof el.value === 'string') out.push(el.value);
    }
    return out;
  };
  const take = (mutations) => {
    for (const m of mutations) {
      let texts;
      if (m.type === 'childList') texts = [...m.addedNodes].flatMap(textsOf);
      else if (m.type === 'characterData') texts = [m.target.data];
      else texts = [m.target.getAttribute(m.attributeName) ?? ''];
      for (const text of texts) if (text) records.push({ seq: ++seq, at: performance.now(), text });
    }
  };
  const observer = new MutationObserver(take);
  observer.observe(document, { childList: true, subtree: true, characterData: true, attributes: true });
  window.recorder = {
    records,
    marks,
    // Takes what is still queued first, so the mark falls exactly between before and after.
    mark(label) {
      take(observer.takeRecords());
      marks[label] = seq;
    },
    // Everything recorded since the mark, plus what is on the page now: a text
    // left standing from before the mark is no mutation, but it is rendered.
    since(label) {
      take(observer.takeRecords());
      for (const text of textsOf(document.documentElement)) records.push({ seq: ++seq, at: performance.now(), text });
      return records.filter((r) => r.seq > marks[label]);
    },
  };
}

async function openApp(env, context, query) {
  const opened = await openPage(context, new URL(`/react-app/?${query}`, env.server.url).href, { init: installRecorder });
  await opened.page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
  await waitForTestId(opened.page, 'who');
  return opened;
}

/** Marks the recorder, then clicks, in one task of the page: everything the click renders comes after the mark. */
function markAndClick(page, label, testId) {
  return page.evaluate((l, id) => {
    window.recorder.mark(l);
    document.querySelector(`[data-testid="${id}"]`).click();
  }, label, testId);
}

// The records that show something of A, cut to the part around it.
const tracesOfA = (records) => records.flatMap((r) => {
  const trace = TRACES_OF_A.find((t) => r.text.includes(t));
  if (!trace) return [];
  const at = r.text.indexOf(trace);
  return [{ seq: r.seq, text: r.text.slice(Math.max(0, at - 40), at + trace.length + 40) }];
});
const recordedSince = (page, label) => page.evaluate((l) => window.recorder.since(l), label);
const resets = (page) => page.evaluate(() => window.app.resets);
// Two frames: whatever the page was going to paint next has been committed.
const nextFrames = (page) => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));

function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function signInA(page) {
  await click(page, 'login-a');
  await waitForText(page, 'who', USER_A.email);
  await waitForTestId(page, 'items', { text: `${USER_A.name} item 1` });
  // The recorder sees what the page shows: A's items, owner and draft are in it.
  const seen = await page.evaluate(() => window.recorder.records.map((r) => r.text));
  for (const text of [`${USER_A.name} item 3`, USER_A.email, `Re: ${USER_A.name} item 1`, `Last opened: ${USER_A.name} item 1`]) {
    assert.ok(seen.some((t) => t.includes(text)), `the recorder saw "${text}"`);
  }
}

/**
 * B signs in while the server holds B's items request; checks the page while it
 * waits and after the answer: nothing of A since `label`, B's data in the end.
 */
async function signInBWithItemsHeld(env, page, label) {
  env.server.fault(ITEMS_ROUTE, { mode: 'hold', times: 1 });
  const arrived = env.server.waitForRequest((e) => `${e.method} ${e.path}` === ITEMS_ROUTE);
  arrived.catch(() => {}); // awaited below; a failure before that must not leave it unhandled
  await markAndClick(page, label, 'login-b');
  await waitForText(page, 'who', USER_B.email);
  // B's view is up: the items' loading line, or (were the cache still A's) a list.
  await page.waitForSelector('[data-testid="items-status"], [data-testid="items"]', { timeout: 5000 });
  await nextFrames(page);
  assert.deepEqual(tracesOfA(await recordedSince(page, label)), [], "A's data rendered after A's session ended");
  const request = await within(arrived, 10_000, "B's items request");
  assert.equal(request.hasAuthorization, true);
  await waitForText(page, 'items-status', 'Loading items');
  await nextFrames(page);
  assert.deepEqual(tracesOfA(await recordedSince(page, label)), [], "A's data rendered while B's was on its way");

  assert.equal(env.server.release(ITEMS_ROUTE), 1, "B's items request was held");
  await waitForTestId(page, 'items', { text: `${USER_B.name} item 1` });
  assert.equal(await page.$eval('[data-testid="draft"]', (el) => el.value), `Re: ${USER_B.name} item 1`, "the form starts from B's data");
  const since = await recordedSince(page, label);
  assert.deepEqual(tracesOfA(since), [], "A's data rendered after A's session ended");
  assert.ok(since.some((r) => r.text.includes(`${USER_B.name} item 3`)), "B's items were rendered");
  assert.ok(since.some((r) => r.text.includes(USER_B.email)), "B's e-mail was rendered");
}

forEachBrowser((env, it) => {
  for (const variant of ['query', 'swr']) {
    const cache = variant === 'query' ? 'TanStack Query (staleTime: Infinity, queryClient given to the provider)' : 'SWR (provider: () => new Map() inside the SessionProvider)';
    it(`${cache}: A signs out, B signs in with B's data held back: nothing of A is rendered after the logout`, { timeout: 60_000 }, async () => {
      const context = await env.newContext();
      const app = await openApp(env, context, `variant=${variant}`);
      const { page } = app;
      await signInA(page);

      await markAndClick(page, 'logout', 'logout');
      await waitForText(page, 'who', 'Signed out');
      assert.deepEqual(await resets(page), ['user']);
      await signInBWithItemsHeld(env, page, 'logout');
      assert.deepEqual(await resets(page), ['user'], 'a login after a logout is no switch');
      assert.deepEqual(problems(app, ['error', 'warn']), []);
    });
  }

  it('the same app without the binding renders A\'s cached items for B (what the recorder is there to catch)', { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    const app = await openApp(env, context, 'variant=unprotected');
    const { page } = app;
    await signInA(page);
    await markAndClick(page, 'logout', 'logout');
    await waitForText(page, 'who', 'Signed out');
    await click(page, 'login-b');
    await waitForText(page, 'who', USER_B.email);
    await waitForTestId(page, 'items');
    const leaked = tracesOfA(await recordedSince(page, 'logout'));
    assert.ok(leaked.some((r) => r.text.includes(`${USER_A.name} item 1`)), `A's items shown to B: ${JSON.stringify(leaked)}`);
    assert.ok(leaked.some((r) => r.text.includes(USER_A.email)), "A's e-mail (the items' owner) shown to B");
  });

  // Last in the file: it moves the server's clock a week ahead.
  it('persisted TanStack cache: A\'s session expires while the page is closed, B signs in after a reload: a \'switch\' reset, nothing of A rendered for B', { timeout: 60_000 }, async () => {
    const context = await env.newContext();
    let app = await openApp(env, context, 'variant=query&persist=1');
    await signInA(app.page);
    const persisted = await app.page.evaluate(() => localStorage.getItem('app:query-cache'));
    assert.ok(persisted.includes(`${USER_A.name} item 1`), "A's items are persisted in localStorage");
    const tokensA = await storedTokens(app.page);
    assert.ok(tokensA.access && tokensA.refresh);
    await app.page.close();

    // While no page is open, A's session runs out: the server's clock passes
    // the refresh token's lifetime. A's tokens are refused from then on.
    env.server.advanceClock(REFRESH_TTL_MS + 60_000);
    const api = env.server.apiBase;
    const profile = await fetch(`${api}/user/profile`, { headers: { Authorization: `Bearer ${tokensA.access}` } });
    assert.equal(profile.status, 401);
    assert.equal((await profile.json()).code, 'token_expired');
    const csrf = (await (await fetch(`${api}/auth/csrf`)).json()).csrf_token;
    const refresh = await fetch(`${api}/auth/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ refresh_token: tokensA.refresh }),
    });
    assert.equal(refresh.status, 401);
    assert.equal((await refresh.json()).code, 'token_expired');

    // The page comes back: it still holds A's tokens and A's persisted cache,
    // and cannot know that A's session is over until it asks the server.
    const itemsRequests = () => env.server.requests.filter((e) => `${e.method} ${e.path}` === ITEMS_ROUTE).length;
    const requestsBefore = itemsRequests();
    app = await openApp(env, context, 'variant=query&persist=1');
    const { page } = app;
    await waitForText(page, 'who', USER_A.email);
    await waitForTestId(page, 'items', { text: `${USER_A.name} item 1` });
    assert.equal(itemsRequests(), requestsBefore, "A's items came from the persisted cache, not the server");

    // Someone else signs in on this page.
    await signInBWithItemsHeld(env, page, 'switch');
    assert.deepEqual(await resets(page), ['switch']);
    const after = await page.evaluate(() => localStorage.getItem('app:query-cache'));
    assert.ok(after && after.includes(`${USER_B.name} item 1`), "B's items are persisted");
    assert.ok(!TRACES_OF_A.some((trace) => after.includes(trace)), `A's data is still persisted: ${after}`);
    assert.deepEqual(problems(app, ['error', 'warn']), []);
  });
}, { serverOptions: { staticDirs: { '/react-app': appDir } } });
