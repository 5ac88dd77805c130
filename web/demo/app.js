// cleanslate demo page logic: one session, the sign-in / profile / sign-out views,
// the session panel, the backend-trouble control and the live activity log.

const API_BASE = new URL('/api/v1', location.origin).href;
const STORAGE_MODE = 'local';
const LOGOUT_TIMEOUT_MS = 3000;
const LIBRARY_LINE = /^\[(Auth|CSRF|API)\]/;
const MAX_LOG_ENTRIES = 300;

// The one session of this page (null until the library has loaded).
let session = null;

const byId = (id) => document.querySelector(`[data-testid="${id}"]`);
const ui = {
  app: byId('app'),
  badge: byId('session-badge'),
  fatal: byId('fatal'),
  status: byId('status'),
  loginView: byId('login-view'),
  loginForm: byId('login-form'),
  email: byId('login-email'),
  password: byId('login-password'),
  loginError: byId('login-error'),
  loginSubmit: byId('login-submit'),
  quickButtons: [byId('login-as-a'), byId('login-as-b')],
  accountView: byId('account-view'),
  accountTitle: document.getElementById('account-title'),
  profilePanel: byId('profile-panel'),
  profileAvatar: byId('profile-avatar'),
  profileName: byId('profile-name'),
  profileEmail: byId('profile-email'),
  profileId: byId('profile-id'),
  profileError: byId('profile-error'),
  profileReload: byId('profile-reload'),
  logoutButton: byId('logout-button'),
  sessionUser: byId('session-user'),
  sessionExpiry: byId('session-expiry'),
  sessionRefresh: byId('session-refresh'),
  sessionStorage: byId('session-storage'),
  cacheAtLogin: byId('cache-at-login'),
  cacheNow: byId('cache-now'),
  faultForm: byId('fault-form'),
  faultSelect: byId('fault-select'),
  faultApply: byId('fault-apply'),
  faultStatus: byId('fault-status'),
  log: byId('log'),
  logClear: byId('log-clear'),
};

// ---------------------------------------------------------------------------
// Activity log
// ---------------------------------------------------------------------------

function clock() {
  const d = new Date();
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** kind: 'event' | 'info' | 'warn' | 'error' | 'debug' */
function addLog(kind, text) {
  const list = ui.log;
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;

  const item = document.createElement('li');
  item.className = `log-entry log-${kind}`;
  item.setAttribute('data-testid', 'log-entry');
  item.dataset.kind = kind;

  const time = document.createElement('time');
  time.className = 'log-time';
  time.textContent = clock();
  const tag = document.createElement('span');
  tag.className = 'log-tag';
  tag.textContent = kind;
  const message = document.createElement('span');
  message.className = 'log-text';
  message.textContent = text;

  item.append(time, tag, message);
  list.append(item);
  while (list.children.length > MAX_LOG_ENTRIES) list.firstElementChild.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function formatArg(arg) {
  if (typeof arg === 'string') return arg;
  if (arg instanceof Error) return `${arg.name}: ${arg.message}`;
  try {
    return JSON.stringify(arg);
  } catch {
    return String(arg);
  }
}

// Mirror the library's console lines into the log; the console itself keeps working as before.
for (const [method, kind] of [['log', 'info'], ['info', 'info'], ['debug', 'debug'], ['warn', 'warn'], ['error', 'error']]) {
  const original = console[method].bind(console);
  console[method] = (...args) => {
    original(...args);
    try {
      const text = args.map(formatArg).join(' ');
      if (LIBRARY_LINE.test(text)) addLog(kind, text);
    } catch {
      // The log is a convenience; it must never break a console call.
    }
  };
}

// Event details are shown as one-line JSON with spaces (so it wraps well), with anything
// that looks like a credential blanked out.
function describeDetail(detail) {
  const json = JSON.stringify(detail ?? null, (key, value) =>
    (/token|password|secret/i.test(key) ? '[hidden]' : value), 1);
  return json.replace(/\n\s*/g, ' ');
}

for (const name of ['auth:login', 'auth:logout', 'auth:refresh']) {
  window.addEventListener(name, (event) => addLog('event', `${name} ${describeDetail(event.detail)}`));
}

ui.logClear.addEventListener('click', () => ui.log.replaceChildren());

// ---------------------------------------------------------------------------
// Status line, errors
// ---------------------------------------------------------------------------

function setStatus(text, tone = 'neutral') {
  ui.status.textContent = text;
  ui.status.dataset.tone = tone;
}

function showFatal(text) {
  ui.fatal.textContent = text;
  ui.fatal.hidden = false;
}

function setFieldError(element, text) {
  element.textContent = text ?? '';
  element.hidden = !text;
}

function setButtonBusy(button, busy, label) {
  button.disabled = busy;
  button.setAttribute('aria-busy', String(busy));
  button.classList.toggle('is-busy', busy);
  if (label) button.querySelector('.btn-label').textContent = label;
}

// ---------------------------------------------------------------------------
// Session panel (display only: reads `exp` from the stored access token)
// ---------------------------------------------------------------------------

function storageArea() {
  return STORAGE_MODE === 'session' ? window.sessionStorage : window.localStorage;
}

function readTokenExp(token) {
  if (!token) return null;
  try {
    const part = token.split('.')[1];
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const payload = JSON.parse(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')));
    return typeof payload.exp === 'number' ? payload.exp : null;
  } catch {
    return null;
  }
}

function formatRemaining(seconds) {
  if (seconds <= 0) return 'expired · refreshes on the next request';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

let displayedUser = null;

function renderSessionPanel() {
  let access = null;
  let refresh = null;
  try {
    access = storageArea().getItem('access_token');
    refresh = storageArea().getItem('refresh_token');
  } catch {
    // Storage can be blocked (privacy settings); the panel then shows dashes.
  }

  const user = displayedUser;
  ui.sessionUser.textContent = user ? `${user.name ?? '—'} · ${user.email ?? ''}`.trim() : '—';

  if (!access) {
    ui.sessionExpiry.textContent = '—';
  } else {
    const exp = readTokenExp(access);
    ui.sessionExpiry.textContent = exp === null
      ? 'unknown (opaque token)'
      : formatRemaining(Math.round(exp - Date.now() / 1000));
  }
  ui.sessionRefresh.textContent = refresh ? 'held' : '—';
  ui.sessionStorage.textContent = STORAGE_MODE === 'memory' ? 'memory only' : `${STORAGE_MODE}Storage`;

  const signedIn = Boolean(session?.isAuthenticated());
  ui.badge.textContent = signedIn ? 'Signed in' : 'Signed out';
  ui.badge.dataset.state = signedIn ? 'in' : 'out';
}

// ---------------------------------------------------------------------------
// Cached for this user: the page keeps the profile it loads in Cache Storage,
// under one URL whoever is signed in, as an offline-first app would. The
// session deletes the cache on every reset (clearOnReset.caches), which is
// all that keeps one user's entry from being the next one's.
// ---------------------------------------------------------------------------

const DEMO_CACHE = 'cleanslate-demo';
const PROFILE_URL = `${API_BASE}/user/profile`;
// Cache Storage exists in secure contexts only (https, localhost, 127.0.0.1).
const cacheStorage = typeof caches === 'undefined' ? null : caches;

// The cache's entries as { path, name }; [] when the cache does not exist
// (has() first: open() would create it).
async function readDemoCache() {
  if (!(await cacheStorage.has(DEMO_CACHE))) return [];
  const cache = await cacheStorage.open(DEMO_CACHE);
  const entries = [];
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    const data = response ? await response.json().catch(() => null) : null;
    entries.push({ path: new URL(request.url).pathname.replace(/^\/api\/v1/, ''), name: data?.name ?? data?.email ?? '?' });
  }
  return entries;
}

function describeCache(element, entries) {
  element.dataset.state = entries.length ? 'held' : 'empty';
  element.textContent = entries.length
    ? entries.map((e) => `${e.name}'s ${e.path === '/user/profile' ? 'profile' : e.path}`).join(', ')
    : 'Empty';
}

/** Shows what the cache holds now in `element`, unless the view changed meanwhile. */
async function showDemoCache(element, generation = viewGeneration) {
  if (!cacheStorage) {
    element.dataset.state = 'none';
    element.textContent = 'Cache Storage needs https or localhost';
    return;
  }
  try {
    const entries = await readDemoCache();
    if (generation === viewGeneration) describeCache(element, entries);
  } catch (err) {
    if (generation === viewGeneration) {
      element.dataset.state = 'none';
      element.textContent = `Cache Storage unavailable (${err?.name ?? err})`;
    }
  }
}

// The read of the cache as the view began; the first entry waits for it, so
// "When you signed in" never shows the profile it is about to cache.
let cacheAtLoginRead = Promise.resolve();

async function cacheProfile(profile, generation) {
  if (!cacheStorage) return;
  await cacheAtLoginRead;
  try {
    const cache = await cacheStorage.open(DEMO_CACHE);
    // Signed out while the cache opened: the reset has deleted it, and this
    // entry must not start a new one for the next user.
    if (generation !== viewGeneration) return;
    await cache.put(PROFILE_URL, new Response(JSON.stringify(profile), { headers: { 'Content-Type': 'application/json' } }));
  } catch {
    // Only a display: a cache that cannot be written stays as it was.
  }
  await showDemoCache(ui.cacheNow, generation);
}

function clearCacheView() {
  for (const element of [ui.cacheAtLogin, ui.cacheNow]) {
    element.dataset.state = 'none';
    element.textContent = '—';
  }
}

// ---------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------

// Bumped whenever the signed-in user changes, so a response that arrives late is never
// rendered into another user's view.
let viewGeneration = 0;

function initials(name) {
  return (name ?? '?').split(/\s+/).filter(Boolean).map((w) => w[0]).join('').slice(0, 2).toUpperCase() || '?';
}

function renderProfile(user) {
  displayedUser = user ?? null;
  ui.profileName.textContent = user?.name ?? '';
  ui.profileEmail.textContent = user?.email ?? '';
  ui.profileId.textContent = user?.id != null ? String(user.id) : '';
  ui.profileAvatar.textContent = user ? initials(user.name ?? user.email) : '';
  ui.profilePanel.dataset.userId = user?.id != null ? String(user.id) : '';
  renderSessionPanel();
}

function showAccountView(user, { moveFocus = true } = {}) {
  viewGeneration += 1;
  ui.loginView.hidden = true;
  ui.accountView.hidden = false;
  setFieldError(ui.loginError, '');
  setFieldError(ui.profileError, '');
  setButtonBusy(ui.logoutButton, false, 'Sign out');
  renderProfile(user);
  clearCacheView();
  // What the cache held when this user's view began: empty for every new user.
  cacheAtLoginRead = showDemoCache(ui.cacheAtLogin).then(() => showDemoCache(ui.cacheNow));
  if (moveFocus) ui.accountTitle.focus();
}

function showLoginView() {
  viewGeneration += 1;
  const wasSignedIn = !ui.accountView.hidden;
  ui.accountView.hidden = true;
  ui.loginView.hidden = false;
  setButtonBusy(ui.logoutButton, false, 'Sign out');
  setFieldError(ui.profileError, '');
  renderProfile(null);
  clearCacheView();
  ui.loginForm.reset();
  if (wasSignedIn) ui.email.focus();
}

async function loadProfile() {
  const generation = viewGeneration;
  ui.profilePanel.setAttribute('aria-busy', 'true');
  setFieldError(ui.profileError, '');
  try {
    const response = await session.get('/user/profile');
    if (generation !== viewGeneration) return;
    if (response.ok) {
      renderProfile(response.data);
      cacheProfile(response.data, generation);
    } else {
      setFieldError(ui.profileError, `Could not load the profile (HTTP ${response.status}).`);
    }
  } catch (err) {
    if (generation !== viewGeneration) return;
    // 'session_expired' also fires auth:logout, which switches the view by itself.
    if (err?.code !== 'session_expired' && err?.code !== 'session_changed') {
      setFieldError(ui.profileError, `Could not load the profile (${err?.code ?? err?.message ?? err}).`);
    }
  } finally {
    if (generation === viewGeneration) ui.profilePanel.setAttribute('aria-busy', 'false');
  }
}

// ---------------------------------------------------------------------------
// Sign in / sign out
// ---------------------------------------------------------------------------

let signingIn = false;

function setLoginBusy(busy) {
  signingIn = busy;
  setButtonBusy(ui.loginSubmit, busy, busy ? 'Signing in…' : 'Sign in');
  for (const button of ui.quickButtons) button.disabled = busy;
}

async function signIn(email, password) {
  if (!session || signingIn) return;
  setFieldError(ui.loginError, '');
  if (!email || !password) {
    setFieldError(ui.loginError, 'Enter your email and password.');
    return;
  }
  setLoginBusy(true);
  setStatus('Signing in…');
  try {
    const result = await session.login(email, password);
    if (result.success) {
      showAccountView(result.user ?? null);
      setStatus(`Signed in as ${result.user?.name ?? email}.`, 'ok');
      await loadProfile();
    } else {
      const code = result.code ? ` (${result.code})` : '';
      setFieldError(ui.loginError, `${result.error ?? 'Sign-in failed'}${code}`);
      setStatus('Sign-in failed.', 'error');
      ui.password.select();
    }
  } catch (err) {
    // login() is specified to resolve for every HTTP or network failure; show anything else too.
    setFieldError(ui.loginError, `Sign-in failed (${err?.code ?? err?.message ?? err}).`);
    setStatus('Sign-in failed.', 'error');
  } finally {
    setLoginBusy(false);
  }
}

ui.loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  signIn(ui.email.value.trim(), ui.password.value);
});

for (const button of ui.quickButtons) {
  button.addEventListener('click', () => {
    ui.email.value = button.dataset.email;
    ui.password.value = button.dataset.password;
    signIn(button.dataset.email, button.dataset.password);
  });
}

ui.profileReload.addEventListener('click', () => loadProfile());

async function signOut() {
  if (!session || ui.logoutButton.disabled) return;
  const generation = viewGeneration;
  setButtonBusy(ui.logoutButton, true, 'Signing out…');
  let result = null;
  try {
    result = await session.logout();
  } catch (err) {
    // logout() is specified never to reject; if it does, the user is still shown signed out.
    result = { success: false, error: err };
  } finally {
    // auth:logout normally switched the view already (before any network I/O). If it did
    // not, do it now; if someone has signed in since, leave their view alone.
    if (viewGeneration === generation) showLoginView();
  }
  renderSessionPanel();
  refreshFaultState();
  // logout() resolves once the reset's cleaners are done: the cache is gone.
  if (viewGeneration === generation + 1) showDemoCache(ui.cacheNow);
  // Report only if the sign-in view from this logout is still the current one: the server
  // notification can take up to logoutTimeoutMs, and the next user may be signed in by then.
  if (viewGeneration !== generation + 1) return;
  if (result?.backendNotified === true) {
    setStatus('Signed out. The server revoked the session.', 'ok');
  } else if (result?.backendNotified === false) {
    setStatus('Signed out. The server could not be notified, but nothing of the session is left in this browser.', 'warn');
  } else {
    setStatus('Signed out.', 'ok');
  }
}

ui.logoutButton.addEventListener('click', () => signOut());

window.addEventListener('auth:logout', (event) => {
  // Fired before any network I/O of a logout: switch the view at once.
  if (ui.accountView.hidden) return;
  showLoginView();
  const reason = event.detail?.reason;
  if (reason === 'expired') setStatus('Your session expired. Please sign in again.', 'warn');
  else if (reason === 'remote') setStatus('You were signed out in another tab.', 'warn');
  else setStatus('Signed out. Notifying the server…');
});

window.addEventListener('auth:refresh', () => renderSessionPanel());

// ---------------------------------------------------------------------------
// Backend trouble control (demo server only)
// ---------------------------------------------------------------------------

const FAULT_TEXT = {
  none: 'Backend healthy.',
  slow: 'Next logout: the server answers after 5 s.',
  status: 'Next logout: the server answers with an error.',
  drop: 'Next logout: the connection is dropped.',
  hang: 'Next logout: the server never answers.',
};

function renderFault(fault) {
  const mode = typeof fault === 'string' ? fault : fault?.mode ?? 'none';
  ui.faultStatus.textContent = FAULT_TEXT[mode] ?? `Next logout: ${mode}.`;
  ui.faultStatus.dataset.mode = mode;
  if (ui.faultSelect.value !== mode && mode in FAULT_TEXT) ui.faultSelect.value = mode;
}

async function refreshFaultState() {
  try {
    const response = await fetch(`${API_BASE}/__demo/state`, { cache: 'no-store' });
    if (response.ok) renderFault((await response.json()).logoutFault);
  } catch {
    // The control is optional; a server without it simply keeps the last shown state.
  }
}

ui.faultForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const mode = ui.faultSelect.value;
  ui.faultApply.disabled = true;
  try {
    // The controls take a CSRF token like every unsafe request. A token of its
    // own, fetched here and never sent with a bearer token, so it stays
    // anonymous and the session's token is left alone.
    const csrf = await fetch(`${API_BASE}/auth/csrf`, { cache: 'no-store' });
    if (!csrf.ok) throw new Error(`HTTP ${csrf.status}`);
    const response = await fetch(`${API_BASE}/__demo/logout-fault`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': (await csrf.json()).csrf_token },
      body: JSON.stringify({ mode }),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    renderFault(mode);
  } catch (err) {
    ui.faultStatus.textContent = `The server refused the setting (${err.message}).`;
  } finally {
    ui.faultApply.disabled = false;
  }
});

// ---------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------

setInterval(renderSessionPanel, 1000);

try {
  const { createSession } = await import('/dist/cleanslate.mjs');
  session = await createSession({
    apiBase: API_BASE,
    storage: STORAGE_MODE,
    logLevel: 'info',
    logoutTimeoutMs: LOGOUT_TIMEOUT_MS,
    clearOnReset: { caches: [DEMO_CACHE] },
  });
} catch (err) {
  showFatal(`The session library could not be loaded (${err?.message ?? err}). Run "npm run build" and reload.`);
  for (const button of [ui.loginSubmit, ...ui.quickButtons]) button.disabled = true;
  ui.badge.textContent = 'Unavailable';
  ui.badge.dataset.state = 'error';
}

if (session) {
  if (session.isAuthenticated()) {
    // Tokens are already in storage (reload, or a new tab): restore the signed-in view.
    showAccountView(session.user ?? null, { moveFocus: false });
    setStatus('Session restored from storage.', 'ok');
    loadProfile();
  } else {
    renderSessionPanel();
  }
  refreshFaultState();
  ui.app.dataset.ready = 'true';
}
