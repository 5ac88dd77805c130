// The ES module entry: loads the compiled session core once, and turns its
// callback API into the promise API of CONTRACT.md §2 (createSession,
// Session, SessionError) and the fetch() of §5.3. The session logic itself
// lives in C++ (wasm/core).
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

// Results come back from the core through one function, csResult, with the
// id they were asked under (wasm/platform/library_cleanslate.js:
// cs_login_result, cs_logout_result, cs_request_result); the waiting
// function gets the result's own fields.
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
// The reset of each live session by its handle, for the core's csReset.
const sessionsByHandle = new Map();

// Passed to the module factory. A result's first field, `code`, is '' on
// success, else an error code.
const results = {
  csReset: (handle, reason, token) => sessionsByHandle.get(handle)?.(reason, token),
  csResult: (id, ...result) => take(id)?.(...result),
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

// `value instanceof` the global class `name`; false where the environment
// has no such class.
function isInstance(value, name) {
  const type = globalThis[name];
  return typeof type === 'function' && value instanceof type;
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

// Response bodies arrive as bytes; request() reads them as UTF-8 text, as
// fetch's response.text() does (invalid sequences become U+FFFD).
let utf8Decoder;
function decodeText(bytes) {
  if (bytes.length === 0) return '';
  utf8Decoder ??= new TextDecoder();
  return utf8Decoder.decode(bytes);
}

function parseData(body, contentType) {
  if (body !== '' && (/[/+]json\b/i.test(contentType) || (!contentType && /^\s*[[{]/.test(body)))) {
    try {
      return JSON.parse(body);
    } catch {
      // not JSON after all: the text
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
  if (isInstance(headers, 'Headers')) {
    entries = headers.entries();
  } else if (Array.isArray(headers)) {
    entries = headers.map((pair) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('each header must be a [name, value] pair');
      return pair;
    });
  } else if (typeof headers === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(headers))) {
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

// ---------------------------------------------------------------- the app's own state (CONTRACT.md §5.2)

const CLEANER_KINDS = ['storageKeys', 'caches', 'indexedDB', 'cookies'];
const DEFAULT_RESET_TIMEOUT_MS = 2000;
const MAX_RESET_TIMEOUT_MS = 600000;
const LOG_LEVELS = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

// The session's own storage keys (wasm/core/token_store.h, the cross-tab
// message and lease keys of wasm/platform/library_cleanslate.js). No cleaner
// removes them, whatever pattern would match: in shared storage they may
// already hold the next session.
const OWN_KEYS = new Set(['access_token', 'refresh_token', 'cleanslate_user', 'cleanslate_last_user']);
const isOwnKey = (key) => OWN_KEYS.has(key) || key.startsWith('cleanslate_msg:') || key.startsWith('cleanslate_lease:');

// clearOnReset and resetTimeoutMs, checked; throws invalid_config.
function resetOptions(options) {
  const { clearOnReset = {}, resetTimeoutMs = DEFAULT_RESET_TIMEOUT_MS } = options;
  if (clearOnReset === null || typeof clearOnReset !== 'object' || Array.isArray(clearOnReset)) {
    throw new SessionError('invalid_config', 'clearOnReset must be an object');
  }
  const clear = {};
  for (const kind of Object.keys(clearOnReset)) {
    if (!CLEANER_KINDS.includes(kind)) {
      throw new SessionError('invalid_config', `clearOnReset.${kind} is not a cleaner (known: ${CLEANER_KINDS.join(', ')})`);
    }
    const names = clearOnReset[kind];
    if (!Array.isArray(names) || names.some((name) => typeof name !== 'string' || name === '')) {
      throw new SessionError('invalid_config', `clearOnReset.${kind} must be an array of non-empty strings`);
    }
    if (names.length > 0) clear[kind] = [...names];
  }
  if (typeof resetTimeoutMs !== 'number' || !Number.isFinite(resetTimeoutMs) || resetTimeoutMs < 0 ||
      resetTimeoutMs > MAX_RESET_TIMEOUT_MS) {
    throw new SessionError('invalid_config', `resetTimeoutMs must be between 0 and ${MAX_RESET_TIMEOUT_MS}`);
  }
  return { clear, timeoutMs: resetTimeoutMs };
}

// A name test for a list of names where a trailing * makes a prefix.
function nameMatcher(patterns) {
  return (name) => patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

// Each cleaner removes what it is given, and only that. The synchronous ones
// are done before they return; the others return a promise.
const cleaners = {
  storageKeys(patterns) {
    const matches = nameMatcher(patterns);
    for (const area of ['localStorage', 'sessionStorage']) {
      let storage = null;
      try {
        storage = globalThis[area]; // a getter that throws where storage is off
      } catch {
        // nothing to clear there
      }
      if (!storage) continue;
      const names = [];
      for (let i = 0; i < storage.length; i++) names.push(storage.key(i));
      for (const name of names) {
        if (name !== null && !isOwnKey(name) && matches(name)) storage.removeItem(name);
      }
    }
  },

  // A cookie goes when one of the same name, path and domain is set expired.
  // Neither is readable from document.cookie, so each path from the page's
  // up to / and each domain from the host up are tried.
  cookies(patterns) {
    const doc = globalThis.document;
    const location = globalThis.location;
    if (!doc || typeof doc.cookie !== 'string' || !location) return;
    const matches = nameMatcher(patterns);
    const names = new Set(doc.cookie.split(';').map((pair) => pair.split('=')[0].trim()).filter((n) => n && matches(n)));
    if (names.size === 0) return;
    const paths = ['/'];
    let path = '';
    for (const segment of location.pathname.split('/').filter(Boolean)) {
      path += `/${segment}`;
      paths.push(path, `${path}/`);
    }
    const domains = [''];
    const labels = location.hostname.split('.');
    if (!/^[\d.]+$|:/.test(location.hostname)) {
      for (let i = 0; i < labels.length - 1; i++) domains.push(`; domain=${labels.slice(i).join('.')}`);
    }
    // A cookie whose name starts with __Host- or __Secure- is only written
    // with the Secure attribute, its removal too; in a secure context a
    // Secure write also removes a cookie set without it. A __Host- cookie
    // lives on path / of the host only, and a write elsewhere is refused
    // (with a console error in Firefox), so it gets just that one.
    const secure = globalThis.isSecureContext === true ? '; Secure' : '';
    for (const name of names) {
      const hostOnly = name.startsWith('__Host-');
      for (const p of hostOnly ? ['/'] : paths) {
        for (const domain of hostOnly ? [''] : domains) doc.cookie = `${name}=; Max-Age=0; path=${p}${domain}${secure}`;
      }
    }
  },

  async caches(patterns) {
    const storage = globalThis.caches;
    if (!storage) return;
    const matches = nameMatcher(patterns);
    const names = (await storage.keys()).filter(matches);
    await Promise.all(names.map((name) => storage.delete(name)));
  },

  // A database another connection holds open is deleted once that
  // connection closes (it gets a `versionchange` event); until then this
  // waits, within resetTimeoutMs.
  async indexedDB(patterns) {
    const idb = globalThis.indexedDB;
    if (!idb) return;
    let names = patterns.filter((p) => !p.endsWith('*'));
    if (names.length < patterns.length) {
      if (typeof idb.databases !== 'function') throw new Error('a name ending in * needs indexedDB.databases()');
      const matches = nameMatcher(patterns);
      const existing = (await idb.databases()).map((db) => db.name).filter((name) => name && matches(name));
      names = [...new Set([...names, ...existing])];
    }
    await Promise.all(names.map((name) => new Promise((resolve, reject) => {
      const request = idb.deleteDatabase(name);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
    })));
  },
};

const describeError = (error) => (error && error.message) || String(error);

// What login() and logout() resolve when they fail.
const failure = (code, error = MESSAGES[code] || code) => ({ success: false, error, code });

// What an aborted call rejects with, as fetch does: the signal's reason,
// which is an 'AbortError' DOMException unless abort() was given another.
function abortReason(signal) {
  return signal.reason !== undefined ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}

// The caller's signal: an AbortSignal (or anything shaped like one), or null.
function checkSignal(signal) {
  if (signal == null) return null;
  if (typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw new TypeError('signal must be an AbortSignal');
  }
  return signal;
}

// A string or URLSearchParams body as { data, type }, `data` its text and
// `type` the Content-Type fetch() gives it; null for any other body.
function textBody(body) {
  if (typeof body === 'string') return { data: body, type: 'text/plain;charset=UTF-8' };
  if (isInstance(body, 'URLSearchParams')) {
    return { data: body.toString(), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  }
  return null;
}

// Any other body of request(), as JSON: { data, type } too.
function jsonBody(body) {
  let json;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    throw new TypeError(`body is not JSON-serialisable: ${error.message}`);
  }
  if (json === undefined) throw new TypeError('body is not JSON-serialisable');
  return { data: json, type: 'application/json' };
}

let utf8Encoder;
function utf8(text) {
  utf8Encoder ??= new TextEncoder();
  return utf8Encoder.encode(text);
}

// The bytes of a Blob's, a Response's or a Request's body.
function readBody(source, type) {
  return source.arrayBuffer().then((buffer) => ({ data: new Uint8Array(buffer), type }));
}

// A fetch() body as { data, type }, `data` its bytes and `type` the
// Content-Type a browser would send with it (used unless the caller's
// headers name one); a promise of it for the kinds that are read
// asynchronously (Blob, FormData, a Request's own body). The bytes cross into
// the core as a Uint8Array, which embind copies verbatim.
function bodyOf(body) {
  const text = textBody(body);
  if (text) return { data: utf8(text.data), type: text.type };
  if (body instanceof ArrayBuffer) return { data: new Uint8Array(body), type: '' };
  if (ArrayBuffer.isView(body)) return { data: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), type: '' };
  if (isInstance(body, 'Blob')) return readBody(body, body.type);
  if (isInstance(body, 'FormData')) {
    // The platform's own multipart encoder: a Response made from the form
    // has its bytes and the Content-Type with the boundary.
    const encoded = new Response(body);
    return readBody(encoded, encoded.headers.get('content-type') || '');
  }
  throw new TypeError('body must be a string, URLSearchParams, Blob, ArrayBuffer, typed array, DataView or FormData');
}

// fetch()'s arguments as the core's request: { method, target, body,
// signal, headersJson }; `body` is null, { data, type } or a promise of it.
// Throws a TypeError for anything fetch() would refuse or this one does not take.
function fetchCall(input, init) {
  let target;
  let method = 'GET';
  let headers;
  let signal = null;
  let body = null;
  if (typeof input === 'string') {
    target = input;
  } else if (isInstance(input, 'URL')) {
    target = input.href;
  } else if (isInstance(input, 'Request')) {
    ({ url: target, method, headers, signal } = input);
    // Its Content-Type is in its headers. Read by method, not by
    // `input.body`, which not every browser has.
    if (!/^(GET|HEAD)$/.test(method)) body = readBody(input, '');
  } else {
    throw new TypeError('input must be a URL string, a URL or a Request');
  }
  if (init != null) {
    if (typeof init !== 'object') throw new TypeError('init must be an object');
    // Each member init gives replaces the input's own.
    ({ method = method, headers = headers, signal = signal } = init);
    if (init.body !== undefined) body = init.body === null ? null : bodyOf(init.body);
  }
  if (typeof method !== 'string') throw new TypeError('method must be a string');
  if (body !== null && /^(GET|HEAD)$/i.test(method)) throw new TypeError(`a ${method} request cannot have a body`);
  return { method, target, body, signal: checkSignal(signal), headersJson: headersToJson(headers) };
}

// Statuses whose Response has no body at all (the Response constructor
// refuses one, even an empty one).
const NULL_BODY_STATUSES = [101, 103, 204, 205, 304];

// The core's answer as a Response. What a constructed Response cannot carry
// stays at its default: `url` is '' and `redirected` false.
function toResponse(method, { status, bytes, rawHeaders, statusText }) {
  if (status < 200 || status > 599) throw new SessionError('bad_response', `HTTP status ${status} cannot be given to a Response`);
  const headers = new Headers();
  const parsed = parseHeaders(rawHeaders);
  for (const name in parsed) {
    try {
      headers.append(name, parsed[name]);
    } catch {
      // a header Headers refuses is one no fetch() response could show either
    }
  }
  const body = method.toUpperCase() === 'HEAD' || NULL_BODY_STATUSES.includes(status) ? null : bytes;
  try {
    return new Response(body, { status, statusText, headers });
  } catch {
    return new Response(body, { status, headers }); // a reason phrase the constructor refuses
  }
}

class Session {
  #core;
  #handle;
  #disposed = false;
  // The last user read, kept while the core reports the same JSON, so that
  // session.user is one object until the user changes.
  #userJson = 'null';
  #user = null;
  // The app's reset hooks (onReset), in registration order, the built-in
  // cleaners asked for and their bound ({ clear, timeoutMs }: resetOptions),
  // and the reset that ran last.
  #hooks = [];
  #reset;
  #logLevel;
  #resetting = Promise.resolve();

  constructor(core, handle, reset, logLevel) {
    this.#core = core;
    this.#handle = handle;
    this.#reset = reset;
    this.#logLevel = logLevel;
    sessionsByHandle.set(handle, (reason, token) => this.#runReset(reason, token));
    // window.fetch through the session (CONTRACT.md §5.3): an own property,
    // bound, so that `{ fetch: session.fetch }` works where a client calls
    // it as a plain function.
    this.fetch = (input, init) => this.#fetch(input, init);
  }

  #log(level, line) {
    if (LOG_LEVELS[level] > this.#logLevel) return;
    if (level === 'warn') console.warn(line);
    else console.log(line);
  }

  /**
   * Registers `hook`, called with { reason, timestamp } in every reset of
   * the app's state (CONTRACT.md §5.2); returns the function that
   * unregisters it.
   */
  onReset(hook) {
    if (typeof hook !== 'function') throw new SessionError('invalid_argument', 'onReset() takes a function');
    const entry = { hook };
    this.#hooks.push(entry);
    return () => {
      const at = this.#hooks.indexOf(entry);
      if (at >= 0) this.#hooks.splice(at, 1);
    };
  }

  // Called by the core in the logout sequence (and before a switching
  // login): the hooks in order, then the cleaners, synchronously; what they
  // leave pending is awaited within resetTimeoutMs. A non-zero `token`: the
  // core holds a login until it hears back.
  #runReset(reason, token) {
    const { clear, timeoutMs } = this.#reset;
    const info = Object.freeze({ reason, timestamp: Date.now() });
    const pending = [];
    const run = (what, fn) => {
      const failed = (error) => this.#log('warn', `[Auth] ${what} failed (non-critical): ${describeError(error)}`);
      try {
        const result = fn();
        if (result && typeof result.then === 'function') pending.push(Promise.resolve(result).catch(failed));
      } catch (error) {
        failed(error);
      }
    };
    for (const { hook } of [...this.#hooks]) run('Reset hook', () => hook(info));
    for (const kind of CLEANER_KINDS) {
      if (clear[kind]) run(`Reset cleaner ${kind}`, () => cleaners[kind](clear[kind]));
    }
    const cleanerCount = Object.keys(clear).length;
    if (this.#hooks.length + cleanerCount > 0) {
      this.#log('debug', `[Auth] App state reset (${reason}): ${this.#hooks.length} hook(s), ${cleanerCount} cleaner(s), ${pending.length} still running`);
    }
    let settled = Promise.resolve();
    if (pending.length > 0) {
      settled = new Promise((resolve) => {
        const timer = setTimeout(() => {
          this.#log('warn', `[Auth] Reset hooks and cleaners still running after ${timeoutMs} ms; going on`);
          resolve();
        }, timeoutMs);
        Promise.all(pending).then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.#resetting = settled;
    if (token) settled.then(() => this.#core._resetSettled(this.#handle, token));
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
    if (this.#disposed) return Promise.resolve(failure('disposed'));
    if (typeof email !== 'string' || typeof password !== 'string') {
      return Promise.resolve(failure('invalid_argument', 'email and password must be strings'));
    }
    return new Promise((resolve) => {
      this.#core._login(this.#handle, email, password, callback((code, error, userJson) => {
        resolve(code ? failure(code, error) : { success: true, user: JSON.parse(userJson) });
      }));
    });
  }

  logout() {
    if (this.#disposed) return Promise.resolve(failure('disposed'));
    return new Promise((resolve) => {
      this.#core.logout(this.#handle, callback((code, backendNotified) => {
        const result = code ? failure(code) : { success: true, backendNotified };
        // The app's reset of this logout, bounded by resetTimeoutMs, ends first.
        this.#resetting.then(() => resolve(result));
      }));
    });
  }

  request(method, path, options = {}) {
    if (this.#disposed) return Promise.reject(new SessionError('disposed'));
    if (typeof method !== 'string' || typeof path !== 'string') {
      return Promise.reject(new SessionError('invalid_argument', 'method and path must be strings'));
    }
    const { body, headers, signal } = options || {};
    // { data, type } as for fetch(), but `data` stays a string.
    let content = null;
    let headersJson;
    let abortSignal;
    try {
      if (body !== undefined && body !== null) content = textBody(body) || jsonBody(body);
      headersJson = headersToJson(headers);
      abortSignal = checkSignal(signal);
    } catch (error) {
      return Promise.reject(new SessionError('invalid_argument', error.message));
    }
    return this.#send(method, path, content, headersJson, abortSignal).then(({ status, bytes, rawHeaders }) => {
      const responseHeaders = parseHeaders(rawHeaders);
      return {
        status,
        ok: status >= 200 && status < 300,
        data: parseData(decodeText(bytes), responseHeaders['content-type'] || ''),
        headers: responseHeaders,
      };
    });
  }

  async #fetch(input, init) {
    if (this.#disposed) throw new SessionError('disposed');
    if (typeof Response !== 'function' || typeof Headers !== 'function') {
      throw new SessionError('unsupported_environment', 'fetch() needs Response and Headers on globalThis');
    }
    let call;
    try {
      call = fetchCall(input, init);
    } catch (error) {
      throw new SessionError('invalid_argument', error.message);
    }
    const { method, signal } = call;
    if (signal?.aborted) throw abortReason(signal);
    // Awaited only when it must be read first (Blob, FormData, a Request's
    // body): any other body is handed to the core within this call, as
    // fetch() takes it, before the caller can change it. (#send checks the
    // signal again: it may have fired while the body was read.)
    let body = call.body;
    if (body instanceof Promise) {
      try {
        body = await body;
      } catch (error) {
        throw new SessionError('invalid_argument', `the body could not be read: ${error.message}`);
      }
    }
    return toResponse(method, await this.#send(method, call.target, body, call.headersJson, signal));
  }

  // Starts a request in the core, with `body` null or { data, type }, and
  // resolves { status, bytes, rawHeaders, statusText } for any HTTP answer.
  // An abort signal cancels it in the core (wherever it waits; its XHR is
  // aborted) and rejects at once; an already-aborted one rejects before
  // anything is sent.
  #send(method, target, body, headersJson, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      let call = 0;
      const onAbort = () => {
        take(id);
        if (!this.#disposed) this.#core._abort(this.#handle, call);
        reject(abortReason(signal));
      };
      const id = callback((code, status, bytes, rawHeaders, statusText) => {
        signal?.removeEventListener('abort', onAbort);
        if (code) reject(new SessionError(code));
        else resolve({ status, bytes, rawHeaders, statusText });
      });
      call = this.#core._request(this.#handle, method, target, body ? body.data : '', body !== null,
        body ? body.type : '', headersJson, id);
      // Listened to only while the call is pending (not settled within _request).
      if (signal && pending.has(id)) signal.addEventListener('abort', onAbort, { once: true });
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
    sessionsByHandle.delete(this.#handle);
  }
}

export async function createSession(options = {}) {
  if (options === null || typeof options !== 'object') {
    throw new SessionError('invalid_config', 'createSession() takes an options object');
  }
  const config = { ...options, apiBase: resolveApiBase(options.apiBase) };
  const reset = resetOptions(options);
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
    throw new SessionError('load_failed', `${MESSAGES.load_failed}: ${describeError(error) || 'aborted'}`);
  }
  const handle = core._create(configJson);
  if (!handle) throw new SessionError('invalid_config', core._configError());
  return new Session(core, handle, reset, LOG_LEVELS[config.logLevel ?? 'warn']);
}
