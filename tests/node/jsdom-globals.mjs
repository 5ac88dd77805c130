// Browser globals for Node: a jsdom window whose URL is the backend's origin
// (so XMLHttpRequest is same-origin), with its XMLHttpRequest, storage and
// event target copied onto globalThis where the module looks for them. Used by
// the Node tests (through helpers.mjs) and by the benchmark's child processes.
import { JSDOM } from 'jsdom';

const GLOBALS = ['window', 'document', 'location', 'XMLHttpRequest', 'localStorage', 'sessionStorage',
  'dispatchEvent', 'addEventListener', 'removeEventListener', 'CustomEvent', 'Event'];

export function installDom(url) {
  const { window } = new JSDOM('<!doctype html><html><body></body></html>', { url });
  globalThis.window = window;
  globalThis.document = window.document;
  globalThis.location = window.location;
  globalThis.XMLHttpRequest = window.XMLHttpRequest;
  globalThis.localStorage = window.localStorage;
  globalThis.sessionStorage = window.sessionStorage;
  globalThis.dispatchEvent = window.dispatchEvent.bind(window);
  globalThis.addEventListener = window.addEventListener.bind(window);
  globalThis.removeEventListener = window.removeEventListener.bind(window);
  globalThis.CustomEvent = window.CustomEvent;
  globalThis.Event = window.Event;
  return window;
}

export function removeDom() {
  if (globalThis.window && typeof globalThis.window.close === 'function') globalThis.window.close();
  for (const name of GLOBALS) delete globalThis[name];
}
