// The React binding (web/dist/react.mjs) in React 19's DOM renderer on a
// jsdom window, with the real session against the reference backend: what
// useSession returns and when it changes, the provider's remount on every
// change of user (and on none other), a render forced in the middle of a
// reset, the QueryClient it cancels and clears, and the hooks it removes
// again. The browser suite (tests/browser/react-app.test.mjs) runs whole apps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { act, createElement as h, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { flushSync } from 'react-dom';
import { QueryClient, isCancelledError } from '@tanstack/react-query';
import { SessionProvider, useSession } from '../../web/dist/react.mjs';
import { useBackend, assertLogin, waitForEvent, within } from './helpers.mjs';

// Tells React that updates are wrapped in act(), which flushes them.
globalThis.IS_REACT_ACT_ENVIRONMENT = true;

const suite = useBackend();

/** Renders `element` into a fresh container. */
function mount(element) {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  act(() => root.render(element));
  return { container, rerender: (next) => act(() => root.render(next)), unmount: () => act(() => root.unmount()) };
}

/** The error that rendering `element` ends with (act() rethrows what no error boundary caught). */
function renderError(element) {
  const root = createRoot(document.createElement('div'));
  try {
    act(() => root.render(element));
  } catch (error) {
    return error;
  } finally {
    act(() => root.unmount());
  }
  return null;
}

// Every useSession() result a Probe rendered, and which mount of the Probe rendered it.
function probe() {
  const renders = [];
  let mounts = 0;
  function Probe() {
    const state = useSession();
    const mountId = useRef(0);
    if (mountId.current === 0) mountId.current = ++mounts;
    renders.push({ state, mount: mountId.current, user: state.user?.email ?? null });
    return h('p', null, state.user ? state.user.email : 'signed out');
  }
  return { Probe, renders, last: () => renders.at(-1) };
}

/** The session's onReset, wrapped to count the hooks registered through it and still in place. */
function countHooks(session) {
  const original = session.onReset.bind(session);
  const counter = { active: 0 };
  session.onReset = (hook) => {
    counter.active++;
    const off = original(hook);
    let done = false;
    return () => {
      if (!done) counter.active--;
      done = true;
      off();
    };
  };
  return counter;
}

test('useSession outside a SessionProvider, and a provider without a session, fail with a clear error', async () => {
  function Lonely() {
    useSession();
    return null;
  }
  assert.match(renderError(h(Lonely))?.message ?? '', /inside a <SessionProvider>/);
  const noSession = renderError(h(SessionProvider, { session: null }, 'x'));
  assert.ok(noSession instanceof TypeError, String(noSession));
  assert.match(noSession.message, /createSession/);
});

test('useSession: one object between changes, stable login/logout, user === session.user', async () => {
  const session = await suite.newSession();
  const { Probe, renders, last } = probe();
  let setTick;
  function Parent() {
    const [tick, set] = useState(0);
    setTick = set;
    return h(SessionProvider, { session }, h(Probe, { tick }));
  }
  const app = mount(h(Parent));
  try {
    const first = last().state;
    assert.equal(first.user, null);
    assert.equal(first.isAuthenticated, false);
    assert.equal(first.session, session);

    act(() => setTick(1));
    assert.equal(renders.length, 2, 'the Probe rendered again');
    assert.equal(last().state, first, 'the same object while nothing changed');

    await act(() => first.login('userA@test.com', 'password'));
    const signedIn = last().state;
    assert.equal(signedIn.user, session.user);
    assert.equal(signedIn.user.email, 'userA@test.com');
    assert.equal(signedIn.isAuthenticated, true);
    assert.equal(signedIn.login, first.login, 'login is the same function');
    assert.equal(signedIn.logout, first.logout, 'logout is the same function');

    act(() => setTick(2));
    assert.equal(last().state, signedIn);

    await act(() => signedIn.logout());
    assert.equal(last().state.user, null);
    assert.equal(last().state.logout, first.logout);
  } finally {
    app.unmount();
  }
});

test('the subtree remounts on login, logout and a switch of user, and not on a token refresh', async () => {
  const session = await suite.newSession();
  const { Probe, last } = probe();
  const app = mount(h(SessionProvider, { session }, h(Probe)));
  try {
    const mounts = [last().mount];

    await act(() => assertLogin(session, 'userA@test.com'));
    assert.equal(last().user, 'userA@test.com');
    mounts.push(last().mount);

    // A refresh: A's access token expires on the server's clock, the next request refreshes it.
    suite.server.advanceClock(16 * 60 * 1000);
    const refreshed = waitForEvent('auth:refresh');
    await act(async () => {
      assert.equal((await session.get('/user/profile')).status, 200);
      await refreshed;
    });
    assert.equal(last().user, 'userA@test.com');
    assert.equal(last().mount, mounts.at(-1), 'no remount for a refresh');

    // B signs in over A's session: a 'switch'.
    const reasons = [];
    const off = session.onReset((info) => reasons.push(info.reason));
    await act(() => assertLogin(session, 'userB@test.com'));
    off();
    assert.deepEqual(reasons, ['switch']);
    assert.equal(last().user, 'userB@test.com');
    mounts.push(last().mount);

    await act(() => session.logout());
    assert.equal(last().user, null);
    mounts.push(last().mount);

    // The same person again: a new session, a new tree.
    await act(() => assertLogin(session, 'userB@test.com'));
    mounts.push(last().mount);

    assert.equal(new Set(mounts).size, mounts.length, `a new mount for each change of user: ${mounts}`);
  } finally {
    app.unmount();
  }
});

test('a render forced inside the reset, before the tokens are cleared and auth:logout fires, shows nobody in a new tree', async () => {
  const session = await suite.newSession();
  await assertLogin(session, 'userA@test.com');
  const { Probe, renders, last } = probe();
  const app = mount(h(SessionProvider, { session }, h(Probe)));
  try {
    assert.equal(last().user, 'userA@test.com');
    // A hook registered after the provider's renders synchronously, as
    // flushSync in any hook or listener would.
    let rendersBefore;
    let tokensInHook;
    let logoutEventsInHook;
    let logoutEvents = 0;
    const countLogout = () => logoutEvents++;
    addEventListener('auth:logout', countLogout);
    const off = session.onReset(() => {
      tokensInHook = localStorage.getItem('access_token') !== null;
      logoutEventsInHook = logoutEvents;
      rendersBefore = renders.length;
      flushSync(() => {});
    });
    await act(() => session.logout());
    off();
    removeEventListener('auth:logout', countLogout);
    assert.equal(tokensInHook, true, 'A\'s tokens were still stored when the hooks ran');
    assert.equal(logoutEventsInHook, 0, 'auth:logout had not fired yet');
    const inReset = renders.slice(rendersBefore);
    assert.ok(inReset.length >= 1, 'the tree rendered inside the reset');
    assert.deepEqual(inReset.map((r) => r.user), inReset.map(() => null), 'nothing of A rendered after the reset began');
    assert.equal(inReset[0].state.isAuthenticated, false);
    assert.notEqual(inReset[0].mount, renders[rendersBefore - 1].mount, 'already the new tree');
  } finally {
    app.unmount();
  }
});

test('queryClient: cancelled, then cleared, inside the reset; a query of A still in flight never fills the cache', async () => {
  const session = await suite.newSession();
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
  const calls = [];
  for (const name of ['cancelQueries', 'clear']) {
    const original = queryClient[name].bind(queryClient);
    queryClient[name] = (...args) => {
      calls.push(name);
      return original(...args);
    };
  }
  const app = mount(h(SessionProvider, { session, queryClient }, 'app'));
  try {
    await act(() => assertLogin(session, 'userA@test.com'));
    await queryClient.fetchQuery({ queryKey: ['profile'], queryFn: async () => (await session.get('/user/profile')).data });
    assert.equal(queryClient.getQueryData(['profile']).email, 'userA@test.com');

    // A's items request is held by the server while A signs out.
    suite.server.fault('GET /user/items', { mode: 'hold', times: 1 });
    const arrived = suite.server.waitForRequest((e) => e.path === '/user/items');
    const inFlight = queryClient.fetchQuery({ queryKey: ['items'], queryFn: async () => (await session.get('/user/items')).data });
    const outcome = inFlight.then(() => 'resolved', (error) => error);
    await within(arrived, "A's items request");

    let loggedOut;
    act(() => {
      loggedOut = session.logout(); // the hooks run synchronously in here
    });
    assert.deepEqual(calls, ['cancelQueries', 'clear']);
    assert.equal(queryClient.getQueryCache().getAll().length, 0, 'the cache is empty before logout() returns');
    await act(() => loggedOut);

    assert.equal(suite.server.release('GET /user/items'), 1);
    const error = await within(outcome, 'the cancelled query to settle');
    assert.ok(isCancelledError(error), `the query was cancelled: ${error}`);
    assert.equal(queryClient.getQueryData(['items']), undefined);
    assert.equal(queryClient.getQueryData(['profile']), undefined);
    assert.equal(queryClient.getQueryCache().getAll().length, 0);
  } finally {
    app.unmount();
  }
});

test('the provider removes its hooks: on unmount, and when its queryClient changes', async () => {
  const session = await suite.newSession();
  const hooks = countHooks(session);
  const first = new QueryClient();
  const second = new QueryClient();
  const { Probe } = probe();
  const app = mount(h(SessionProvider, { session, queryClient: first }, h(Probe)));
  assert.equal(hooks.active, 2, 'the provider\'s store and its queryClient');

  app.rerender(h(SessionProvider, { session, queryClient: second }, h(Probe)));
  assert.equal(hooks.active, 2, 'the first client\'s hook is gone');
  await act(() => assertLogin(session, 'userA@test.com'));
  second.setQueryData(['x'], 1);
  first.setQueryData(['x'], 1);
  await act(() => session.logout());
  assert.equal(second.getQueryData(['x']), undefined, 'the current client is cleared');
  assert.equal(first.getQueryData(['x']), 1, 'the previous one is left alone');

  app.unmount();
  assert.equal(hooks.active, 0);
});
