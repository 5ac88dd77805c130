// An in-memory XMLHttpRequest that answers on the next microtask. No network,
// no HTTP stack, so timing it shows the CPU a client spends on each request.
// It knows just enough of the backend for a session to log in: GET
// …/auth/csrf gives a CSRF token, POST …/auth/login an access token (a JWT
// that expires in a day), a refresh token and the user; every other request
// gets the same small JSON body (the profile).
const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const ACCESS_TOKEN = `${b64url({ alg: 'HS256', typ: 'JWT' })}.` +
  `${b64url({ sub: '1', email: 'userA@test.com', exp: Math.floor(Date.now() / 1000) + 86_400 })}.c2lnbmF0dXJl`;
const USER = { id: 1, email: 'userA@test.com', name: 'User A' };
const answer = (body) => {
  const bytes = new TextEncoder().encode(body);
  const headers = 'content-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n' +
    `content-length: ${bytes.length}\r\n`;
  return { body, bytes, headers };
};
const PROFILE = answer(JSON.stringify(USER));
const CSRF = answer(JSON.stringify({ csrf_token: 'in-memory-csrf-token' }));
const LOGIN = answer(JSON.stringify({ access_token: ACCESS_TOKEN, refresh_token: 'in-memory-refresh-token', user: USER }));

function answerFor(method, url) {
  if (method === 'GET' && url.endsWith('/auth/csrf')) return CSRF;
  if (method === 'POST' && url.endsWith('/auth/login')) return LOGIN;
  return PROFILE;
}

export class InMemoryXMLHttpRequest {
  constructor() {
    this.readyState = 0;
    this.status = 0;
    this.statusText = '';
    this.responseType = '';
    this.response = null;
    this.responseText = '';
    this.timeout = 0;
    this.withCredentials = false;
    this.requestHeaders = {};
  }

  open(method, url) {
    this.method = method;
    this.url = url;
    this.readyState = 1;
  }

  setRequestHeader(name, value) {
    this.requestHeaders[name] = value;
  }

  overrideMimeType() {}

  getAllResponseHeaders() {
    return this.readyState === 4 ? this.answer.headers : '';
  }

  getResponseHeader(name) {
    return this.readyState === 4 && name.toLowerCase() === 'content-type' ? 'application/json; charset=utf-8' : null;
  }

  abort() {}

  send() {
    this.answer = answerFor(this.method, this.url);
    const { body, bytes } = this.answer;
    queueMicrotask(() => {
      this.status = 200;
      this.statusText = 'OK';
      this.readyState = 4;
      if (this.responseType === 'arraybuffer') this.response = bytes.slice().buffer;
      else this.response = this.responseText = body;
      const event = { loaded: bytes.length, total: bytes.length, lengthComputable: true };
      if (this.onreadystatechange) this.onreadystatechange(event);
      if (this.onprogress) this.onprogress(event);
      if (this.onload) this.onload(event);
      if (this.onloadend) this.onloadend(event);
    });
  }
}
