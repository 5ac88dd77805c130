// An in-memory XMLHttpRequest that answers every request with the same small
// JSON body on the next microtask. No network, no HTTP stack, so timing it shows
// the CPU a client spends on each request.
const BODY = '{"id":1,"email":"userA@test.com","name":"User A"}';
const HEADERS = 'content-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n' +
  `content-length: ${BODY.length}\r\n`;
const BYTES = new TextEncoder().encode(BODY);

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
    return this.readyState === 4 ? HEADERS : '';
  }

  getResponseHeader(name) {
    return this.readyState === 4 && name.toLowerCase() === 'content-type' ? 'application/json; charset=utf-8' : null;
  }

  abort() {}

  send() {
    queueMicrotask(() => {
      this.status = 200;
      this.statusText = 'OK';
      this.readyState = 4;
      if (this.responseType === 'arraybuffer') this.response = BYTES.slice().buffer;
      else this.response = this.responseText = BODY;
      const event = { loaded: BYTES.length, total: BYTES.length, lengthComputable: true };
      if (this.onreadystatechange) this.onreadystatechange(event);
      if (this.onprogress) this.onprogress(event);
      if (this.onload) this.onload(event);
      if (this.onloadend) this.onloadend(event);
    });
  }
}
