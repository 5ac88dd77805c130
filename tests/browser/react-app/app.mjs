// A small React 19 app on cleanslate-session/react, bundled by
// react-app.test.mjs with esbuild and served by the reference backend. It
// caches per-user data the way apps do (TanStack Query with
// staleTime: Infinity, or SWR), keys it without the user (so only a clean
// start keeps users apart) and holds a form whose state starts from the data.
// ?variant=query (default) | swr | unprotected (the same app without the
// binding: the tests' proof that their recorder sees a leak);
// &persist=1 keeps the TanStack cache in localStorage across reloads.
import { createElement as h, StrictMode, useEffect, useState, useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider, useQuery, dehydrate, hydrate } from '@tanstack/react-query';
import useSWR, { SWRConfig } from 'swr';
import { createSession } from 'cleanslate-session';
import { SessionProvider, useSession } from 'cleanslate-session/react';

const params = new URLSearchParams(location.search);
const variant = params.get('variant') || 'query';
const persist = params.get('persist') === '1';
// Listed in clearOnReset.storageKeys ('app:*'): the persisted cache goes with the session.
const PERSIST_KEY = 'app:query-cache';

const session = await createSession({
  apiBase: '/api/v1',
  storage: 'local',
  // The Cache Storage cleaner is asynchronous: a switching login then waits
  // for it, and the page may render between the reset and auth:login.
  clearOnReset: { storageKeys: ['app:*'], caches: ['app-assets'] },
});
// What the tests read: every reset this page saw, in order.
const resets = [];
session.onReset((info) => resets.push(info.reason));
window.app = { session, resets };

async function fetchItems() {
  const response = await session.get('/user/items');
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.data;
}

// Without the binding: follows the auth events, keeps every component mounted
// and never clears the cache. What an app without it might write.
function subscribeAuthEvents(onChange) {
  const names = ['auth:login', 'auth:logout', 'auth:refresh'];
  for (const name of names) addEventListener(name, onChange);
  return () => names.forEach((name) => removeEventListener(name, onChange));
}
const unprotectedLogin = (email, password) => session.login(email, password);
const unprotectedLogout = () => session.logout();
function useUnprotectedSession() {
  const user = useSyncExternalStore(subscribeAuthEvents, () => session.user);
  return { user, isAuthenticated: user !== null, login: unprotectedLogin, logout: unprotectedLogout };
}

const useAuth = variant === 'unprotected' ? useUnprotectedSession : useSession;

function Account() {
  const { user, isAuthenticated, login, logout } = useAuth();
  return h('header', null,
    h('p', { 'data-testid': 'who' }, isAuthenticated && user ? `Signed in: ${user.name} <${user.email}>` : 'Signed out'),
    h('button', { type: 'button', 'data-testid': 'login-a', onClick: () => login('userA@test.com', 'password') }, 'First account'),
    h('button', { type: 'button', 'data-testid': 'login-b', onClick: () => login('userB@test.com', 'password') }, 'Second account'),
    h('button', { type: 'button', 'data-testid': 'logout', onClick: () => logout() }, 'Sign out'));
}

function ItemList({ data, onOpen }) {
  // Form state that starts from the data: only a remount drops it.
  const [draft, setDraft] = useState(() => `Re: ${data.items[0].title}`);
  useEffect(() => onOpen(data.items[0].title), [data, onOpen]);
  return h('section', { 'data-testid': 'items', 'data-owner': data.items[0].owner },
    h('ul', null, data.items.map((item) => h('li', { key: item.id }, item.title))),
    h('input', { 'aria-label': 'Draft', 'data-testid': 'draft', value: draft, onChange: (e) => setDraft(e.target.value) }));
}

function status(text) {
  return h('p', { 'data-testid': 'items-status' }, text);
}

function QueryItems({ onOpen }) {
  const { data, error } = useQuery({ queryKey: ['items'], queryFn: fetchItems });
  if (error) return status(`Could not load the items: ${error.message}`);
  return data ? h(ItemList, { data, onOpen }) : status('Loading items…');
}

function SwrItems({ onOpen }) {
  const { data, error } = useSWR('/user/items', fetchItems);
  if (error) return status(`Could not load the items: ${error.message}`);
  return data ? h(ItemList, { data, onOpen }) : status('Loading items…');
}

function Home({ Items }) {
  const { isAuthenticated } = useAuth();
  // State of a component that stays mounted through sign-out and sign-in:
  // only the provider's remount drops it.
  const [lastOpened, setLastOpened] = useState(null);
  return h('main', null,
    h(Account),
    h('p', { 'data-testid': 'last-opened' }, lastOpened ? `Last opened: ${lastOpened}` : 'Nothing opened yet'),
    isAuthenticated ? h(Items, { onOpen: setLastOpened }) : status('Sign in to see your items'));
}

function queryClient() {
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
  if (persist) {
    const saved = localStorage.getItem(PERSIST_KEY);
    if (saved) hydrate(client, JSON.parse(saved));
    // Written on every change; a reset's clear() writes an empty cache, and
    // the clearOnReset cleaner then removes the key.
    client.getQueryCache().subscribe(() => localStorage.setItem(PERSIST_KEY, JSON.stringify(dehydrate(client))));
  }
  return client;
}

const client = variant === 'swr' ? null : queryClient();

function App() {
  if (variant === 'swr') {
    // A fresh SWR cache per remount: the provider function runs again under each new key.
    return h(SessionProvider, { session },
      h(SWRConfig, { value: { provider: () => new Map() } }, h(Home, { Items: SwrItems })));
  }
  if (variant === 'unprotected') return h(QueryClientProvider, { client }, h(Home, { Items: QueryItems }));
  return h(QueryClientProvider, { client },
    h(SessionProvider, { session, queryClient: client }, h(Home, { Items: QueryItems })));
}

createRoot(document.getElementById('root')).render(h(StrictMode, null, h(App)));
document.body.dataset.ready = 'true';
