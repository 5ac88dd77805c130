// A small XMLHttpRequest over node:http with a keep-alive agent, for the
// memory figure's long run against the reference backend: real HTTP on
// 127.0.0.1, real server, real JSON, but without jsdom's XMLHttpRequest
// (undici, whatwg-url, cookie jar, DOM events), which costs a few ms of CPU
// per request. The module only uses the asynchronous part of XMLHttpRequest
// (emscripten_fetch underneath): open, setRequestHeader, overrideMimeType,
// timeout, withCredentials, responseType 'arraybuffer' or '', send, abort,
// getAllResponseHeaders, getResponseHeader and the on* handlers. Same-origin
// only: there is no CORS check and no cookie jar.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

const UNSENT = 0;
const OPENED = 1;
const HEADERS_RECEIVED = 2;
const LOADING = 3;
const DONE = 4;

export class NodeXMLHttpRequest {
  static UNSENT = UNSENT;
  static OPENED = OPENED;
  static HEADERS_RECEIVED = HEADERS_RECEIVED;
  static LOADING = LOADING;
  static DONE = DONE;

  constructor() {
    this.readyState = UNSENT;
    this.status = 0;
    this.statusText = '';
    this.responseType = '';
    this.response = null;
    this.responseText = '';
    this.responseURL = '';
    this.timeout = 0;
    this.withCredentials = false;
    this.onreadystatechange = null;
    this.onloadstart = null;
    this.onprogress = null;
    this.onload = null;
    this.onerror = null;
    this.ontimeout = null;
    this.onabort = null;
    this.onloadend = null;
    this._headers = {};
    this._resHeaders = null;
    this._req = null;
    this._timer = null;
    this._listeners = new Map();
  }

  addEventListener(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
  }

  removeEventListener(type, fn) {
    const set = this._listeners.get(type);
    if (set) set.delete(fn);
  }

  _fire(type, event = {}) {
    const e = { type, target: this, currentTarget: this, loaded: 0, total: 0, lengthComputable: false, ...event };
    const handler = this[`on${type}`];
    if (typeof handler === 'function') handler.call(this, e);
    const set = this._listeners.get(type);
    if (set) for (const fn of [...set]) fn.call(this, e);
  }

  _setState(state) {
    this.readyState = state;
    this._fire('readystatechange');
  }

  open(method, url, async = true) {
    if (async === false) throw new Error('NodeXMLHttpRequest: synchronous requests are not supported');
    const base = globalThis.location && globalThis.location.href ? globalThis.location.href : undefined;
    this._url = new URL(url, base);
    if (this._url.protocol !== 'http:') throw new Error(`NodeXMLHttpRequest: only http: URLs, got ${this._url.protocol}`);
    this._method = String(method).toUpperCase();
    this._headers = {};
    this._setState(OPENED);
  }

  setRequestHeader(name, value) {
    const key = String(name).toLowerCase();
    this._headers[key] = key in this._headers ? `${this._headers[key]}, ${value}` : String(value);
  }

  overrideMimeType() {}

  getAllResponseHeaders() {
    if (!this._resHeaders || this.readyState < HEADERS_RECEIVED) return '';
    return Object.entries(this._resHeaders)
      .filter(([name]) => name !== 'set-cookie' && name !== 'set-cookie2')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : value}\r\n`)
      .join('');
  }

  getResponseHeader(name) {
    if (!this._resHeaders || this.readyState < HEADERS_RECEIVED) return null;
    const key = String(name).toLowerCase();
    if (key === 'set-cookie' || key === 'set-cookie2') return null;
    const value = this._resHeaders[key];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : String(value);
  }

  send(body = null) {
    if (this.readyState !== OPENED || this._req) throw new Error('NodeXMLHttpRequest: send() needs open() first');
    const payload = body == null || this._method === 'GET' || this._method === 'HEAD' ? null
      : typeof body === 'string' ? Buffer.from(body, 'utf8')
        : Buffer.from(body.buffer || body, body.byteOffset || 0, body.byteLength);
    const headers = { ...this._headers };
    if (payload) headers['content-length'] = String(payload.length);
    const req = http.request({
      agent, method: this._method, hostname: this._url.hostname, port: this._url.port,
      path: `${this._url.pathname}${this._url.search}`, headers,
    });
    this._req = req;
    this._fire('loadstart');
    if (this.timeout > 0) {
      this._timer = setTimeout(() => this._fail('timeout'), this.timeout);
    }
    req.on('response', (res) => {
      if (this._req !== req) {
        res.resume();
        return;
      }
      this.status = res.statusCode;
      this.statusText = res.statusMessage || '';
      this.responseURL = this._url.href;
      this._resHeaders = res.headers;
      this._setState(HEADERS_RECEIVED);
      const chunks = [];
      let loaded = 0;
      res.on('data', (chunk) => {
        if (this._req !== req) return;
        if (this.readyState === HEADERS_RECEIVED) this._setState(LOADING);
        chunks.push(chunk);
        loaded += chunk.length;
      });
      res.on('end', () => {
        if (this._req !== req) return;
        this._clearTimer();
        this._req = null;
        const bytes = Buffer.concat(chunks, loaded);
        if (this.responseType === 'arraybuffer') {
          this.response = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
        } else {
          this.response = this.responseText = bytes.toString('utf8');
        }
        const total = Number(res.headers['content-length']) || loaded;
        const progress = { loaded, total, lengthComputable: Boolean(res.headers['content-length']) };
        this._fire('progress', progress);
        this._setState(DONE);
        this._fire('load', progress);
        this._fire('loadend', progress);
      });
      res.on('error', () => this._fail('error'));
    });
    req.on('error', () => this._fail('error'));
    req.end(payload || undefined);
  }

  abort() {
    if (!this._req) return;
    this._fail('abort');
  }

  _clearTimer() {
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
  }

  // Network error, timeout or abort: state DONE with status 0 and no body.
  _fail(type) {
    const req = this._req;
    if (!req) return;
    this._req = null;
    this._clearTimer();
    req.destroy();
    this.status = 0;
    this.statusText = '';
    this.response = null;
    this.responseText = '';
    this._resHeaders = null;
    this._setState(DONE);
    this._fire(type);
    this._fire('loadend');
    if (type === 'abort') this.readyState = UNSENT;
  }
}
