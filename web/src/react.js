// The React binding (cleanslate-session/react): SessionProvider and
// useSession. Plain createElement, no JSX, so the file ships as written.
// React is a peer dependency; the core entry never imports this file.
//
// The one rule it enforces: whenever the signed-in user changes (logout,
// expiry, another tab's logout, a switch to another user, login), and on
// every reset of the app's state (session.onReset), everything under the
// provider is remounted under a new key, so no component state, ref or
// effect of user A survives into user B's tree.
import {
  createContext,
  createElement,
  Fragment,
  useContext,
  useEffect,
  useLayoutEffect,
  useSyncExternalStore,
} from 'react';

const AUTH_EVENTS = ['auth:login', 'auth:logout', 'auth:refresh'];

// Keys for the provider's subtree. One counter for the whole module, so a
// provider handed another session object never reuses a key the previous
// session's tree had.
let lastGeneration = 0;

// The external store of one session: its snapshot for useSession, and the
// generation (the subtree's key) for the provider. Shared by every provider
// and hook of that session.
function createStore(session) {
  const listeners = new Set();
  const login = (email, password) => session.login(email, password);
  const logout = () => session.logout();
  let generation = ++lastGeneration;
  let snapshot = { user: null, isAuthenticated: false, login, logout, session };
  let unsubscribe = null;

  // Reads the session; a new snapshot (and, when the user is another object,
  // a new generation) only when something changed, as useSyncExternalStore
  // requires of getSnapshot.
  function read() {
    const user = session.user;
    const isAuthenticated = session.isAuthenticated();
    if (user !== snapshot.user || isAuthenticated !== snapshot.isAuthenticated) {
      // session.user is one object per signed-in user, so a new object is a
      // new user (or the same person signed in anew): remount.
      if (user !== snapshot.user) generation = ++lastGeneration;
      snapshot = { user, isAuthenticated, login, logout, session };
    }
    return snapshot;
  }

  function changed() {
    read(); // eagerly: a user that goes and comes back before the next render still gets a new key
    for (const listener of [...listeners]) listener();
  }

  // A reset runs before the tokens are cleared and auth:logout fires (or, on
  // a switch, before auth:login). The session has ended by then
  // (session.user is null), so a render in that window already shows nobody,
  // in a new tree. The key changes on every reset, also one with nobody
  // signed in: the app's state starts anew either way.
  function onReset() {
    generation = ++lastGeneration;
    changed();
  }

  function attach() {
    for (const name of AUTH_EVENTS) globalThis.addEventListener?.(name, changed);
    const off = session.onReset(onReset);
    return () => {
      for (const name of AUTH_EVENTS) globalThis.removeEventListener?.(name, changed);
      off();
    };
  }

  return {
    snapshot: read,
    generation() {
      read();
      return generation;
    },
    subscribe(listener) {
      listeners.add(listener);
      if (!unsubscribe) unsubscribe = attach();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && unsubscribe) {
          unsubscribe();
          unsubscribe = null;
        }
      };
    },
  };
}

const stores = new WeakMap();
function storeOf(session) {
  let store = stores.get(session);
  if (!store) {
    store = createStore(session);
    stores.set(session, store);
  }
  return store;
}

const SessionContext = createContext(null);

// Layout effects run at commit, before the browser paints and before any
// timer or network answer; on the server, where they never run, the plain
// effect avoids React 18's warning.
const useCommitEffect = typeof document === 'undefined' ? useEffect : useLayoutEffect;

function checkSession(session) {
  if (!session || typeof session.onReset !== 'function' || typeof session.login !== 'function') {
    throw new TypeError('SessionProvider: `session` must be a session from createSession() (with onReset)');
  }
}

export function SessionProvider({ session, queryClient = null, children }) {
  checkSession(session);
  const store = storeOf(session);
  const generation = useSyncExternalStore(store.subscribe, store.generation, store.generation);

  useCommitEffect(() => {
    if (!queryClient) return undefined;
    return session.onReset(() => {
      // Cancel first: a query of the old user still in flight must not put
      // its late answer into the cache the next user reads. cancelQueries()
      // aborts them at once; its promise only says they have settled.
      Promise.resolve(queryClient.cancelQueries()).catch(() => {});
      queryClient.clear();
    });
  }, [session, queryClient]);

  return createElement(
    SessionContext.Provider,
    { value: store },
    createElement(Fragment, { key: generation }, children),
  );
}

export function useSession() {
  const store = useContext(SessionContext);
  if (!store) throw new Error('useSession() must be called inside a <SessionProvider>');
  return useSyncExternalStore(store.subscribe, store.snapshot, store.snapshot);
}
