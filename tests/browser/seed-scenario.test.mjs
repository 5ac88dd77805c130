// The seed scenario through the demo UI: A signs in, signs out, B signs in on the same
// page, and nothing of A is left in the panels, in storage or in any rendered response.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser, startDemoServer, openDemo, signInWithButton, storedTokens, jwtPayload, waitForReady,
  waitForText,
  USER_A, USER_B,
} from './helpers.mjs';

let browser;
let server;

before(async () => {
  server = await startDemoServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

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

test('user A signs out, user B signs in: nothing of A remains', { timeout: 30_000 }, async () => {
  const { page, context } = await openDemo(browser, server);
  const profileBodies = [];
  page.on('response', (res) => {
    if (new URL(res.url()).pathname.endsWith('/user/profile')) {
      profileBodies.push(res.json().catch(() => null));
    }
  });

  // --- A ---
  await signInWithButton(page, USER_A);
  assert.equal(await page.getByTestId('profile-email').textContent(), USER_A.email);
  assert.match(await page.getByTestId('session-user').textContent(), /User A/);
  const idA = (await page.getByTestId('profile-id').textContent()).trim();
  assert.ok(idA, 'profile id of A is shown');
  const tokensA = await storedTokens(page);
  assert.ok(tokensA.access && tokensA.refresh, 'A holds both tokens after login');
  assert.equal(String(jwtPayload(tokensA.access)?.sub), idA, "A's access token belongs to A");

  // --- logout ---
  await page.getByTestId('logout-button').click();
  await page.getByTestId('login-view').waitFor({ state: 'visible', timeout: 2000 });
  await page.getByTestId('status').filter({ hasText: 'revoked' }).waitFor({ timeout: 5000 });
  assert.deepEqual(await storedTokens(page), { access: null, refresh: null }, 'tokens cleared on logout');
  assertNoTraceOfA(await storageDump(page), tokensA, 'after logout');
  const between = await panelTexts(page);
  assert.ok(!between.includes(USER_A.email) && !between.includes(USER_A.name),
    `panels still show A after logout: ${between}`);
  assert.equal(await page.getByTestId('session-expiry').textContent(), '—');
  const responsesOfA = profileBodies.length;
  assert.ok(responsesOfA >= 1, "A's profile was loaded through the API");

  // --- B ---
  await signInWithButton(page, USER_B);
  assert.equal(await page.getByTestId('profile-email').textContent(), USER_B.email);
  const idB = (await page.getByTestId('profile-id').textContent()).trim();
  assert.notEqual(idB, idA);
  assert.equal(await page.getByTestId('profile-panel').getAttribute('data-user-id'), idB);

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
    page.waitForResponse((res) => new URL(res.url()).pathname.endsWith('/user/profile')),
    page.getByTestId('profile-reload').click(),
  ]);
  assert.equal((await reloaded.json()).email, USER_B.email);
  await page.waitForFunction(() => document.querySelector('[data-testid="profile-panel"]').getAttribute('aria-busy') === 'false');
  assert.equal(await page.getByTestId('profile-email').textContent(), USER_B.email);

  await context.close();
});

test('a reload restores the signed-in view from storage', { timeout: 30_000 }, async () => {
  const { page, context } = await openDemo(browser, server);
  await signInWithButton(page, USER_A);
  const tokens = await storedTokens(page);

  await page.reload();
  await waitForReady(page);
  await waitForText(page, 'profile-name', USER_A.name);
  assert.equal(await page.getByTestId('login-view').isVisible(), false);
  assert.equal(await page.getByTestId('profile-email').textContent(), USER_A.email);
  assert.deepEqual(await storedTokens(page), tokens, 'the same session continues');

  // Signing out after a restore clears everything just the same.
  await page.getByTestId('logout-button').click();
  await page.getByTestId('login-view').waitFor({ state: 'visible', timeout: 2000 });
  assert.deepEqual(await storedTokens(page), { access: null, refresh: null });
  await page.reload();
  await waitForReady(page);
  assert.equal(await page.getByTestId('login-view').isVisible(), true, 'still signed out after another reload');
  await context.close();
});
