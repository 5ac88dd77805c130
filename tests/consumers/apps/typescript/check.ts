// A TypeScript consumer of the installed package, compiled with tsc --strict
// --noEmit under bundler and node16 resolution (never run). It uses every type
// the package exports; each @ts-expect-error line proves a type is narrower
// than `any`, since tsc fails on one that expects an error and finds none.
import {
  createSession,
  SessionError,
  type ApiResponse,
  type AuthLoginDetail,
  type AuthLogoutDetail,
  type AuthRefreshDetail,
  type ClearOnReset,
  type LogLevel,
  type LoginErrorCode,
  type LoginResult,
  type LogoutResult,
  type RequestOptions,
  type ResetHook,
  type ResetInfo,
  type ResetReason,
  type Session,
  type SessionErrorCode,
  type SessionOptions,
  type StorageMode,
  type User,
} from 'cleanslate-session';

const storage: StorageMode = 'session';
const logLevel: LogLevel = 'debug';
const options: SessionOptions = {
  apiBase: '/api/v1',
  storage,
  logLevel,
  logoutTimeoutMs: 3000,
  requestTimeoutMs: 30000,
  refreshLeewaySec: 30,
  maxAuthResponseBytes: 1 << 20,
  csrfHeader: 'X-CSRF-Token',
  endpoints: { login: '/auth/login', refresh: '/auth/refresh', logout: '/auth/logout', csrf: '/auth/csrf' },
  clearOnReset: { storageKeys: ['app:*'], caches: ['api-v1'], indexedDB: ['app-db'], cookies: ['prefs'] },
  resetTimeoutMs: 2000,
};
const cleaners: ClearOnReset = { caches: ['*'] };
// @ts-expect-error: the cleaners take lists of names
const oneName: ClearOnReset = { caches: 'api-v1' };
// @ts-expect-error: storage is 'local' | 'session' | 'memory'
const cookieStorage: SessionOptions = { apiBase: '/api/v1', storage: 'cookie' };
// @ts-expect-error: apiBase is required
const noApiBase: SessionOptions = { storage: 'memory' };
// @ts-expect-error: timeouts are numbers
const stringTimeout: SessionOptions = { apiBase: '/api/v1', requestTimeoutMs: '30s' };

interface Profile {
  id: number;
  email: string;
  name: string;
}

async function run(): Promise<string> {
  const session: Session = await createSession(options);

  const login: LoginResult = await session.login('userA@test.com', 'password');
  if (login.success) {
    const user: User = login.user;
    const email: string = user.email;
    const id: string | number = user.id;
  } else {
    const code: LoginErrorCode = login.code;
    const message: string = login.error;
    // @ts-expect-error: a failed login carries no user
    login.user;
  }
  // @ts-expect-error: until `success` is checked the result may be a failure, which has no user
  login.user.email;
  // @ts-expect-error: the email is a string
  await session.login(42, 'password');

  const requestOptions: RequestOptions = { headers: { 'X-Trace': '1' } };
  const profile: ApiResponse<Profile> = await session.get<Profile>('/user/profile', requestOptions);
  const status: number = profile.status;
  const ok: boolean = profile.ok;
  const contentType: string | undefined = profile.headers['content-type'];
  const profileEmail: string = profile.data.email;
  // @ts-expect-error: Profile has no `role`
  profile.data.role;
  // @ts-expect-error: response headers are strings
  const headerNumber: number = profile.headers['content-length'];
  // @ts-expect-error: header values are strings
  await session.get('/user/items', { headers: { 'X-Count': 1 } });

  const untyped: ApiResponse = await session.request('GET', '/user/items');
  // @ts-expect-error: without a type argument the data is `unknown`, not `any`
  untyped.data.items;
  await session.post('/user/notes', { text: 'note' });
  await session.put('/user/notes', { text: 'note' }, requestOptions);
  await session.patch('/user/notes', { text: 'note' });
  await session.delete('/user/notes');

  // session.fetch has window.fetch's type: fetch-based clients take it as their fetch.
  const customFetch: typeof fetch = session.fetch;
  const fetched: Response = await customFetch('/user/profile', { signal: new AbortController().signal });
  // @ts-expect-error: session.fetch is read-only
  session.fetch = fetch;
  // @ts-expect-error: the input is a string, a URL or a Request
  await session.fetch(42);
  await session.get('/user/items', { signal: new AbortController().signal });

  session.resetCsrfToken();
  session.resetApiState();
  const authenticated: boolean = session.isAuthenticated();
  const hook: ResetHook = (info: ResetInfo) => {
    const reason: ResetReason = info.reason;
    const at: number = info.timestamp;
    return reason === 'switch' ? Promise.resolve(at) : undefined;
  };
  const off: () => void = session.onReset(hook);
  off();
  // @ts-expect-error: 'timeout' is no reset reason
  const badResetReason: ResetReason = 'timeout';
  const current: User | null = session.user;
  // @ts-expect-error: `user` is read-only
  session.user = null;

  const logout: LogoutResult = await session.logout();
  if (logout.success) {
    const notified: boolean = logout.backendNotified;
  } else {
    const disposed: 'disposed' = logout.code;
  }
  // @ts-expect-error: a logout result carries no user
  logout.user;
  session.dispose();
  return profileEmail;
}

function errorCode(error: unknown): SessionErrorCode | null {
  if (!(error instanceof SessionError)) return null;
  const message: string = error.message;
  // @ts-expect-error: the code is one of the listed strings, not a number
  const asNumber: number = error.code;
  // @ts-expect-error: 'teapot' is not a code of the package
  const teapot: SessionErrorCode = 'teapot';
  return error.code;
}
const timeout: SessionError = new SessionError('timeout', 'slow backend');
// @ts-expect-error: a SessionError takes one of the listed codes
new SessionError('teapot');

window.addEventListener('auth:login', (event) => {
  const detail: AuthLoginDetail = event.detail;
  const at: number = detail.timestamp;
  const email: string = detail.user.email;
});
window.addEventListener('auth:logout', (event) => {
  const detail: AuthLogoutDetail = event.detail;
  const reason: 'user' | 'expired' | 'remote' = detail.reason;
});
window.addEventListener('auth:refresh', (event) => {
  const detail: AuthRefreshDetail = event.detail;
  // @ts-expect-error: a refresh event names no user
  detail.user;
});
// @ts-expect-error: logout reasons are 'user', 'expired' and 'remote'
const badReason: AuthLogoutDetail['reason'] = 'timeout';

run().then(errorCode, errorCode);
