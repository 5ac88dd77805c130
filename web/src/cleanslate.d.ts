// Types for cleanslate: the promise API of the compiled session core.

export type StorageMode = 'local' | 'session' | 'memory';
export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

export interface SessionOptions {
  /** Absolute, or relative to location.origin. */
  apiBase: string;
  storage?: StorageMode;
  logLevel?: LogLevel;
  /** Upper bound on the backend logout notification (default 3000). */
  logoutTimeoutMs?: number;
  /** Upper bound on any other request (default 30000). */
  requestTimeoutMs?: number;
  /** Proactive refresh this long before the JWT `exp` (default 30). */
  refreshLeewaySec?: number;
  /** Largest auth-endpoint response accepted, in bytes (default 1 MiB). */
  maxAuthResponseBytes?: number;
  /** Largest answer to any other request, in bytes (default 16 MiB); a longer one rejects `response_too_large`. */
  maxResponseBytes?: number;
  csrfHeader?: string;
  endpoints?: { login?: string; refresh?: string; logout?: string; csrf?: string };
  /** What the built-in cleaners remove in every reset of the app's state (CONTRACT.md §5.2). */
  clearOnReset?: ClearOnReset;
  /** Bound on the asynchronous work of reset hooks and cleaners (default 2000). */
  resetTimeoutMs?: number;
}

/** Names to remove; a trailing `*` makes a prefix (`'*'` alone: everything of that kind). */
export interface ClearOnReset {
  /** localStorage and sessionStorage keys (the session's own keys are never removed). */
  storageKeys?: string[];
  /** Cache Storage names. */
  caches?: string[];
  /** IndexedDB databases, deleted. */
  indexedDB?: string[];
  /** Non-HttpOnly cookies of the page's origin that the page sees (on its path or a parent path), `__Host-` and `__Secure-` ones included. */
  cookies?: string[];
}

export type ResetReason = 'user' | 'expired' | 'remote' | 'switch';
export interface ResetInfo {
  reason: ResetReason;
  timestamp: number;
}
/** A promise it returns is awaited (within resetTimeoutMs) before logout() resolves. */
export type ResetHook = (info: ResetInfo) => void | PromiseLike<unknown>;

export interface User {
  id: string | number;
  email: string;
  name?: string;
  [key: string]: unknown;
}

/** Why a login failed (`LoginResult.code`); the first five come from the login answer itself. */
export type LoginErrorCode =
  | 'invalid_credentials'
  | 'rate_limited'
  | 'server_error'
  | 'http_error'
  | 'bad_response'
  | 'network'
  | 'timeout'
  | 'csrf_unavailable'
  | 'session_changed'
  | 'superseded'
  | 'disposed'
  | 'invalid_argument';

export type LoginResult =
  | { success: true; user: User }
  | { success: false; error: string; code: LoginErrorCode };

export type LogoutResult =
  | { success: true; backendNotified: boolean }
  | { success: false; error: string; code: 'disposed' };

export interface ApiResponse<T = unknown> {
  status: number;
  ok: boolean;
  /** Parsed JSON when the body is JSON, else the text. */
  data: T;
  /** Response headers, names in lower case. */
  headers: Record<string, string>;
}

export interface RequestOptions {
  body?: unknown;
  /** A plain object, a `Headers`, or an array of [name, value] pairs. */
  headers?: Record<string, string> | Headers | ReadonlyArray<readonly [string, string]>;
  /** Aborting it cancels the request (the connection closes) and rejects with the signal's reason (an `AbortError`). */
  signal?: AbortSignal | null;
}

export type SessionErrorCode =
  | 'network'
  | 'timeout'
  | 'session_changed'
  | 'session_expired'
  | 'bad_response'
  | 'response_too_large'
  | 'csrf_unavailable'
  | 'disposed'
  | 'invalid_argument'
  | 'invalid_config'
  | 'load_failed'
  | 'unsupported_environment';

export class SessionError extends Error {
  readonly code: SessionErrorCode;
  constructor(code: SessionErrorCode, message?: string);
}

export interface Session {
  login(email: string, password: string): Promise<LoginResult>;
  logout(): Promise<LogoutResult>;
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  get<T = unknown>(path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  delete<T = unknown>(path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  post<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse<T>>;
  put<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse<T>>;
  patch<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse<T>>;
  /**
   * `window.fetch` through the session: a string target resolves like `request()`'s path (relative to
   * `apiBase`, or absolute). Resolves a `Response` for any HTTP status; rejects with the signal's reason
   * when aborted, else with a `SessionError`. Bound: `{ fetch: session.fetch }` works.
   */
  readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  resetCsrfToken(): void;
  resetApiState(): void;
  isAuthenticated(): boolean;
  /** Calls `hook` in every reset of the app's state; returns the function that unregisters it. */
  onReset(hook: ResetHook): () => void;
  readonly user: User | null;
  dispose(): void;
}

export function createSession(options: SessionOptions): Promise<Session>;

export interface AuthLoginDetail { timestamp: number; user: User }
export interface AuthLogoutDetail { timestamp: number; reason: 'user' | 'expired' | 'remote' }
export interface AuthRefreshDetail { timestamp: number }

declare global {
  // Merges with the DOM's CustomEvent; where a project's lib has no DOM (Node
  // without @types/node), it is the only declaration and the file still compiles.
  interface CustomEvent<T = any> {
    readonly detail: T;
  }
  // The same for fetch's Headers (RequestOptions.headers takes one).
  interface Headers {
    forEach(callbackfn: (value: string, key: string, parent: Headers) => void, thisArg?: any): void;
  }
  // And for the other types of session.fetch and RequestOptions.signal: each
  // declares only members the DOM's (and Node's) declare the same way.
  interface AbortSignal {
    readonly aborted: boolean;
  }
  interface URL {
    toString(): string;
  }
  interface Request {
    readonly url: string;
  }
  interface RequestInit {
    method?: string;
    signal?: AbortSignal | null;
  }
  interface Response {
    readonly status: number;
  }
  interface WindowEventMap {
    'auth:login': CustomEvent<AuthLoginDetail>;
    'auth:logout': CustomEvent<AuthLogoutDetail>;
    'auth:refresh': CustomEvent<AuthRefreshDetail>;
  }
}
