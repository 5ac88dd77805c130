// The seed scenario through the demo UI: A signs in, signs out, B signs in on the same
// page, and nothing of A is left in the panels, in storage or in any rendered response.
// Runs in every browser of helpers.mjs.
import assert from 'node:assert/strict';
import {
  forEachBrowser, openDemo, signInWithButton, storedTokens, jwtPayload, waitForReady, waitForText,
  waitForTestId, click, textOf, attributeOf, isVisible,
  USER_A, USER_B,
} from './helpers.mjs';

async function panelTexts(page) {
  // textContent includes hidden elements, so stale data in a hidden view is caught too.
  return page.evaluate(() => ['profile-panel', 'session-panel', 'account-view']
    .map((id) => document.querySelector(`[data-testid="${id}"]`).textContent)
    .join('\n'));
}

/** Every key and value of localStorage and sessionStorage. */
function storageDump(page) {
  return page.evaluate(() => {
    const dump = (s) => Object.fromEntries(Array.from({ length: s.length }, (_, i) => s.key(i)).map((k) => [k, s.getItem(k)]));
    return { local: dump(localStorage), session: dump(sessionStorage) };
  });
}

function assertNoTraceOfA(storage, tokensA, when) {
  for (const [area, entries] of Object.entries(storage)) {
    for (const [key, value] of Object.entries(entries)) {
      for (const trace of [tokensA.access, tokensA.refresh, USER_A.email, USER_A.name]) {
        assert.ok(!String(value).includes(trace), `${when}: ${area}Storage.${key} still holds something of A`);
      }
    }
  }
}

/** Records the JSON body of every /user/profile response the page receives, in order. */
function recordProfileBodies(page) {
  const bodies = [];
  page.on('response', (res) => {
    if (new URL(res.url()).pathname.endsWith('/user/profile')) bodies.push(res.json().catch(() => null));
  });
  return bodies;
}

forEachBrowser((env, it) => {
  it('user A signs out, user B signs in: nothing of A remains', { timeout: 30_000 }, async () => {
    const { page } = await openDemo(env);
    const profileBodies = recordProfileBodies(page);

    // --- A ---
    await signInWithButton(page, USER_A);
    assert.equal(await textOf(page, 'profile-email'), USER_A.email);
    assert.match(await textOf(page, 'session-user'), /User A/);
    const idA = (await textOf(page, 'profile-id')).trim();
    assert.ok(idA, 'profile id of A is shown');
    const tokensA = await storedTokens(page);
    assert.ok(tokensA.access && tokensA.refresh, 'A holds both tokens after login');
    assert.equal(String(jwtPayload(tokensA.access)?.sub), idA, "A's access token belongs to A");

    // --- logout ---
    await click(page, 'logout-button');
    await waitForTestId(page, 'login-view');
    await waitForText(page, 'status', 'revoked');
    assert.deepEqual(await storedTokens(page), { access: null, refresh: null }, 'tokens cleared on logout');
    assertNoTraceOfA(await storageDump(page), tokensA, 'after logout');
    const between = await panelTexts(page);
    assert.ok(!between.includes(USER_A.email) && !between.includes(USER_A.name),
      `panels still show A after logout: ${between}`);
    assert.equal(await textOf(page, 'session-expiry'), '—');
    const responsesOfA = profileBodies.length;
    assert.ok(responsesOfA >= 1, "A's profile was loaded through the API");

    // --- B ---
    await signInWithButton(page, USER_B);
    assert.equal(await textOf(page, 'profile-email'), USER_B.email);
    const idB = (await textOf(page, 'profile-id')).trim();
    assert.notEqual(idB, idA);
    assert.equal(await attributeOf(page, 'profile-panel', 'data-user-id'), idB);

    const after = await panelTexts(page);
    assert.ok(!after.includes(USER_A.email), 'no userA@test.com in the profile/session panels');
    assert.ok(!after.includes(USER_A.name), 'no "User A" in the profile/session panels');
    assert.match(after, /User B/);

    // Storage: only B's tokens, different from A's, and B's access token is B's.
    const storage = await storageDump(page);
    const tokensB = { access: storage.local.access_token, refresh: storage.local.refresh_token };
    assert.ok(tokensB.access && tokensB.refresh, 'B holds both tokens');
    assert.notEqual(tokensB.access, tokensA.access);
    assert.notEqual(tokensB.refresh, tokensA.refresh);
    assert.equal(String(jwtPayload(tokensB.access)?.sub), idB, "the stored access token is B's");
    assertNoTraceOfA(storage, tokensA, 'after B signed in');

    // Every profile response rendered since B signed in is B's.
    const bodiesOfB = (await Promise.all(profileBodies)).slice(responsesOfA);
    assert.ok(bodiesOfB.length >= 1, "B's profile was loaded through the API");
    for (const body of bodiesOfB) {
      assert.equal(body?.email, USER_B.email, `a profile response after B's login was not B's: ${JSON.stringify(body)}`);
    }

    // The reload button fetches again and still renders B.
    const [reloaded] = await Promise.all([
      page.waitForResponse((res) => new URL(res.url()).pathname.endsWith('/user/profile'), { timeout: 5000 }),
      click(page, 'profile-reload'),
    ]);
    assert.equal((await reloaded.json()).email, USER_B.email);
    await page.waitForFunction(() => document.querySelector('[data-testid="profile-panel"]').getAttribute('aria-busy') === 'false',
      { polling: 'mutation', timeout: 5000 });
    assert.equal(await textOf(page, 'profile-email'), USER_B.email);
  });

  it('"Cached for this user": A\'s profile is cached, the sign-out deletes the cache, B starts with it empty', { timeout: 30_000 }, async () => {
    const { page } = await openDemo(env);
    // The demo's Cache Storage cache as [{ path, email }], or null when it does not exist.
    const demoCache = () => page.evaluate(async () => {
      if (!(await caches.has('cleanslate-demo'))) return null;
      const cache = await caches.open('cleanslate-demo');
      return Promise.all((await cache.keys()).map(async (request) => ({
        path: new URL(request.url).pathname,
        email: (await (await cache.match(request)).json()).email,
      })));
    });

    await signInWithButton(page, USER_A);
    await waitForText(page, 'cache-now', `${USER_A.name}'s profile`);
    assert.equal(await textOf(page, 'cache-at-login'), 'Empty');
    assert.deepEqual(await demoCache(), [{ path: '/api/v1/user/profile', email: USER_A.email }]);

    await click(page, 'logout-button');
    await waitForText(page, 'status', 'revoked');
    await waitForText(page, 'cache-now', 'Empty');
    assert.equal(await demoCache(), null, 'the reset deleted the cache');

    await signInWithButton(page, USER_B);
    await waitForText(page, 'cache-now', `${USER_B.name}'s profile`);
    assert.equal(await textOf(page, 'cache-at-login'), 'Empty', 'B starts with an empty cache');
    assert.deepEqual(await demoCache(), [{ path: '/api/v1/user/profile', email: USER_B.email }]);
    assert.ok(!(await textOf(page, 'cache-panel')).includes(USER_A.name));
  });

  it('a reload restores the signed-in view from storage', { timeout: 30_000 }, async () => {
    const { page } = await openDemo(env);
    await signInWithButton(page, USER_A);
    const tokens = await storedTokens(page);
    assert.ok(tokens.access && tokens.refresh, 'A holds both tokens after login');

    await page.reload();
    await waitForReady(page);
    await waitForText(page, 'profile-name', USER_A.name);
    assert.equal(await isVisible(page, 'login-view'), false);
    assert.equal(await textOf(page, 'profile-email'), USER_A.email);
    assert.deepEqual(await storedTokens(page), tokens, 'the same session continues');

    // Signing out after a restore clears everything just the same.
    await click(page, 'logout-button');
    await waitForTestId(page, 'login-view');
    assert.deepEqual(await storedTokens(page), { access: null, refresh: null });
    await page.reload();
    await waitForReady(page);
    assert.equal(await isVisible(page, 'login-view'), true, 'still signed out after another reload');
  });
});
