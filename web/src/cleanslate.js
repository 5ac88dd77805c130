// The ES module entry: loads the compiled session core once, and turns its
// callback API into the promise API of CONTRACT.md §2 (createSession,
// Session, SessionError). The session logic itself lives in C++ (wasm/core).
import CleanslateCore from 'cleanslate-core-glue';

const MESSAGES = {
  network: 'The request failed: network error',
  timeout: 'The request timed out',
  session_changed: 'The session changed while the request was in flight',
  session_expired: 'The session expired: the refresh token was refused',
  bad_response: 'The server response was not understood',
  response_too_large: 'The response was larger than maxResponseBytes',
  csrf_unavailable: 'No CSRF token could be obtained',
  disposed: 'The session was disposed',
  invalid_argument: 'Invalid argument',
  invalid_config: 'Invalid options',
  load_failed: 'The cleanslate module could not be loaded',
  unsupported_environment: 'This environment lacks a required browser API',
};

export class SessionError extends Error {
  constructor(code, message) {
    super(message || MESSAGES[code] || code);
    this.name = 'SessionError';
    this.code = code;
  }
}

const WASM_URL = new URL('./cleanslate.wasm', import.meta.url);
let corePromise = null;

// Results come back from the core keyed by an id, through one function per
// kind (wasm/platform/library_cleanslate.js: cs_login_result,
// cs_logout_result, cs_request_result); each hands the waiting function the
// result's own fields.
const pending = new Map();
let nextCallback = 1;
function callback(fn) {
  const id = nextCallback++;
  pending.set(id, fn);
  return id;
}
function take(id) {
  const fn = pending.get(id);
  pending.delete(id);
  return fn;
}
// Passed to the module factory; `code` is '' on success, else an error code.
const results = {
  csLoginResult: (id, code, error, userJson) => take(id)?.(code, error, userJson),
  csLogoutResult: (id, code, backendNotified) => take(id)?.(code, backendNotified),
  csRequestResult: (id, code, status, body, rawHeaders) => take(id)?.(code, status, body, rawHeaders),
};

// In Node the wasm sits beside this file and is read through the built-in
// fs module. process.getBuiltinModule (Node 20.16+) is a plain call, not an
// import: no bundler follows it, so no `node:` module is reachable from a
// browser build.
function readWasmFile(url) {
  const fs = globalThis.process?.getBuiltinModule?.('fs');
  if (!fs) throw new Error(`cannot read ${url}: loading the module from a file needs Node 20.16 or newer`);
  return fs.promises.readFile(url);
}

// The wasm: fetched beside this module in a browser, read from the file in
// Node. A browser gets the Response itself, not its bytes, so that the
// module compiles while it downloads (wasm/platform/instantiate_pre.js).
async function wasmSource() {
  if (WASM_URL.protocol === 'file:') return readWasmFile(WASM_URL);
  const response = await fetch(WASM_URL);
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${WASM_URL}`);
  return response;
}

function loadCore() {
  if (!corePromise) {
    corePromise = new Promise((resolve, reject) => {
      // The factory runs at once, with the wasm still on its way: its glue is
      // evaluated while the request is in flight, and the minimal runtime
      // (see CMakeLists.txt) awaits Module.wasm before it instantiates.
      CleanslateCore({
        wasm: wasmSource(),
        // A failed fetch, bytes that do not compile, a module that does not
        // link, and one that instantiates but is not the core all end here
        // (instantiate_pre.js), never in a pending load.
        csLoadFailed: reject,
        ...results,
      }).then(resolve, reject);
    });
    corePromise.catch(() => {
      corePromise = null; // a later createSession() may try again
    });
  }
  return corePromise;
}

function resolveApiBase(apiBase) {
  if (typeof apiBase !== 'string' || apiBase === '') {
    throw new SessionError('invalid_config', 'apiBase is required');
  }
  let base;
  try {
    const origin = globalThis.location && globalThis.location.origin !== 'null' ? globalThis.location.origin : undefined;
    base = new URL(apiBase, origin);
  } catch {
    throw new SessionError('invalid_config', `apiBase must be an absolute URL or relative to location.origin: ${apiBase}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new SessionError('invalid_config', 'apiBase must be an http(s) URL');
  }
  return base.href.replace(/\/+$/, '');
}

// "name: value" lines as getAllResponseHeaders() gives them; a repeated name
// has its values joined with ", ". Scans with indexOf: this runs once per
// response.
function parseHeaders(raw) {
  // No prototype: a header named `constructor` or `__proto__` is just a header.
  const headers = Object.create(null);
  const length = raw.length;
  let start = 0;
  while (start < length) {
    let end = raw.indexOf('\n', start);
    if (end < 0) end = length;
    const colon = raw.indexOf(':', start);
    if (colon > start && colon < end) {
      const name = raw.slice(start, colon).trim().toLowerCase();
      const value = raw.slice(colon + 1, end).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    start = end + 1;
  }
  return headers;
}

function parseData(body, contentType) {
  if (body === '') return body;
  if (/[/+]json\b/i.test(contentType) || (!contentType && /^\s*[[{]/.test(body))) {
    try {
      return JSON.parse(body);
    } catch {
      return body;
    }
  }
  return body;
}

// The caller's headers as a JSON object for the core. Takes what fetch()
// takes: a Headers object, an array of [name, value] pairs, or a plain
// object; anything else throws (and the request rejects invalid_argument).
function headersToJson(headers) {
  if (headers == null) return '';
  let entries;
  if (typeof Headers === 'function' && headers instanceof Headers) {
    entries = headers.entries();
  } else if (Array.isArray(headers)) {
    entries = headers.map((pair) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('each header must be a [name, value] pair');
      return pair;
    });
  } else if (typeof headers === 'object' && (Object.getPrototypeOf(headers) === Object.prototype || Object.getPrototypeOf(headers) === null)) {
    entries = Object.entries(headers);
  } else {
    throw new TypeError('headers must be a Headers object, an array of pairs or a plain object');
  }
  const plain = Object.create(null);
  for (const [name, value] of entries) {
    if (value === undefined || value === null) continue;
    if (typeof name !== 'string') throw new TypeError('header names must be strings');
    plain[name] = name in plain ? `${plain[name]}, ${value}` : String(value);
  }
  return JSON.stringify(plain);
}

class Session {
  #core;
  #handle;
  #disposed = false;
  // The last user read, kept while the core reports the same JSON, so that
  // session.user is one object until the user changes.
  #userJson = 'null';
  #user = null;

  constructor(core, handle) {
    this.#core = core;
    this.#handle = handle;
  }

  get user() {
    if (this.#disposed) return null;
    const json = this.#core._user(this.#handle);
    if (json !== this.#userJson) {
      this.#userJson = json;
      try {
        this.#user = JSON.parse(json);
      } catch {
        this.#user = null;
      }
    }
    return this.#user;
  }

  isAuthenticated() {
    return !this.#disposed && this.#core.isAuthenticated(this.#handle);
  }

  login(email, password) {
    if (this.#disposed) return Promise.resolve({ success: false, error: MESSAGES.disposed, code: 'disposed' });
    if (typeof email !== 'string' || typeof password !== 'string') {
      return Promise.resolve({ success: false, error: 'email and password must be strings', code: 'invalid_argument' });
    }
    return new Promise((resolve) => {
      this.#core._login(this.#handle, email, password, callback((code, error, userJson) => {
        resolve(code ? { success: false, error, code } : { success: true, user: JSON.parse(userJson) });
      }));
    });
  }

  logout() {
    if (this.#disposed) return Promise.resolve({ success: false, error: MESSAGES.disposed, code: 'disposed' });
    return new Promise((resolve) => {
      this.#core.logout(this.#handle, callback((code, backendNotified) => {
        resolve(code ? { success: false, error: MESSAGES[code] || code, code } : { success: true, backendNotified });
      }));
    });
  }

  request(method, path, options = {}) {
    if (this.#disposed) return Promise.reject(new SessionError('disposed'));
    if (typeof method !== 'string' || typeof path !== 'string') {
      return Promise.reject(new SessionError('invalid_argument', 'method and path must be strings'));
    }
    const { body, headers } = options || {};
    let text = '';
    let hasBody = false;
    let contentType = '';
    if (body !== undefined && body !== null) {
      hasBody = true;
      if (typeof body === 'string') {
        text = body;
        contentType = 'text/plain;charset=UTF-8';
      } else if (typeof URLSearchParams === 'function' && body instanceof URLSearchParams) {
        text = body.toString();
        contentType = 'application/x-www-form-urlencoded;charset=UTF-8';
      } else {
        try {
          text = JSON.stringify(body);
        } catch (error) {
          return Promise.reject(new SessionError('invalid_argument', `body is not JSON-serialisable: ${error.message}`));
        }
        if (text === undefined) return Promise.reject(new SessionError('invalid_argument', 'body is not JSON-serialisable'));
        contentType = 'application/json';
      }
    }
    let headersJson;
    try {
      headersJson = headersToJson(headers);
    } catch (error) {
      return Promise.reject(new SessionError('invalid_argument', error.message));
    }
    return new Promise((resolve, reject) => {
      this.#core._request(this.#handle, method, path, text, hasBody, contentType, headersJson,
        callback((code, status, responseBody, rawHeaders) => {
          if (code) {
            reject(new SessionError(code));
            return;
          }
          const responseHeaders = parseHeaders(rawHeaders);
          resolve({
            status,
            ok: status >= 200 && status < 300,
            data: parseData(responseBody, responseHeaders['content-type'] || ''),
            headers: responseHeaders,
          });
        }));
    });
  }

  get(path, options) {
    return this.request('GET', path, options);
  }
  delete(path, options) {
    return this.request('DELETE', path, options);
  }
  post(path, body, options) {
    return this.request('POST', path, { ...options, body });
  }
  put(path, body, options) {
    return this.request('PUT', path, { ...options, body });
  }
  patch(path, body, options) {
    return this.request('PATCH', path, { ...options, body });
  }

  resetCsrfToken() {
    if (!this.#disposed) this.#core.resetCsrfToken(this.#handle);
  }

  resetApiState() {
    if (!this.#disposed) this.#core.resetApiState(this.#handle);
  }

  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#core.dispose(this.#handle);
  }
}

export async function createSession(options = {}) {
  if (options === null || typeof options !== 'object') {
    throw new SessionError('invalid_config', 'createSession() takes an options object');
  }
  const config = { ...options, apiBase: resolveApiBase(options.apiBase) };
  if (typeof globalThis.XMLHttpRequest !== 'function') {
    throw new SessionError('unsupported_environment', 'XMLHttpRequest is not available on globalThis (in Node, install jsdom globals)');
  }
  let configJson;
  try {
    configJson = JSON.stringify(config);
  } catch (error) {
    throw new SessionError('invalid_config', `options must be JSON-serialisable: ${error.message}`);
  }
  let core;
  try {
    core = await loadCore();
  } catch (error) {
    // The runtime's abort() throws a bare string, possibly empty.
    throw new SessionError('load_failed', `${MESSAGES.load_failed}: ${(error && error.message) || String(error) || 'aborted'}`);
  }
  const handle = core._create(configJson);
  if (!handle) throw new SessionError('invalid_config', core._configError());
  return new Session(core, handle);
}
