// The JavaScript half of wasm/platform/ and wasm/bindings.cpp: every browser
// call the C++ side makes, linked with `--js-library` (see CMakeLists.txt)
// and declared for C++ in library_cleanslate.h. The C++ adapters own the
// logic; these functions only touch the browser API they are named after.
//
// Emscripten runs this file through its preprocessor (no line may start with
// `#`), stringifies each function into the glue and passes the glue through
// its acorn-based optimizer: every entry is a plain `function (...) {}`
// (jsifier renames it by rewriting its first `function(`, so no arrow or
// method shorthand), and the bodies stay ES5 (var, function, no classes)
// plus `globalThis` and `catch {}`. No optional chaining (`a?.b`): the
// terser 3.1.6's optimizer prints with cannot convert it and the link fails.
// Helpers named `$x` become plain variables of the glue, `x`, private to one
// module instance.
/* global mergeInto, LibraryManager, Module, HEAPU8, HEAPU32, UTF8ToString, stringToUTF8, lengthBytesUTF8,
   stackSave, stackRestore, Fetch, _malloc, _free, _emscripten_fetch, _cs_fetch_prepare, _cs_fetch_started,
   _cs_fetch_too_large, _cs_channel_deliver, _cs_lock_granted,
   csChannels, csLocks, csStorageFailure: writable, csString, csNewString, csStorage, csFetchXhr, csAbortXhr */

// Emscripten 3.1.6 has the string and stack helpers in its runtime; newer
// releases make them library symbols that must be named as dependencies.
// Only the ones this release's library knows are named.
function csRuntimeDeps(names) {
  return names.filter(function (name) {
    return Object.prototype.hasOwnProperty.call(LibraryManager.library, name);
  });
}

var csStrings = csRuntimeDeps(['$UTF8ToString', '$stringToUTF8', '$lengthBytesUTF8']);

mergeInto(LibraryManager.library, {
  // ------------------------------------------------------------ shared helpers

  // What the adapters keep between calls: the open channels and the held
  // locks by the id the C++ side gave them, and the name of the last storage
  // failure.
  $csChannels: {},
  $csLocks: {},
  $csStorageFailure: '=""', // a leading '=' makes a string a value, not an alias

  // A C string as JS. Empty strings (no error code, an empty body) are
  // common: they are not decoded.
  $csString__deps: csStrings,
  $csString: function (ptr) {
    return ptr && HEAPU8[ptr] ? UTF8ToString(ptr) : '';
  },

  // A JS string copied into a fresh malloc'd C string; the C++ side frees it.
  $csNewString__deps: csStrings,
  $csNewString: function (text) {
    var size = lengthBytesUTF8(text) + 1;
    var ptr = _malloc(size);
    stringToUTF8(text, ptr, size);
    return ptr;
  },

  // Runs `use` on localStorage (kind 0) or sessionStorage (kind 1), from
  // globalThis or, under jsdom, its window. A missing area or any throw (a
  // full quota, a sandboxed frame) returns `failed` and keeps the error's
  // name for cs_storage_error.
  $csStorage__deps: ['$csStorageFailure'],
  $csStorage: function (kind, use, failed) {
    try {
      var g = globalThis;
      var w = g.window || {};
      var area = kind ? g.sessionStorage || w.sessionStorage : g.localStorage || w.localStorage;
      if (!area) throw new Error('Web Storage is not available');
      return use(area);
    } catch (e) {
      csStorageFailure = (e && e.name) || 'Error';
      return failed;
    }
  },

  // ------------------------------------------------------------ storage (WebStorage)

  // 1 and a malloc'd copy of the value in *out, 0 when the key is missing,
  // -1 when the storage failed.
  cs_storage_get__deps: ['$csStorage', '$csNewString'],
  cs_storage_get__sig: 'iiii',
  cs_storage_get: function (kind, key, out) {
    return csStorage(kind, function (area) {
      var value = area.getItem(UTF8ToString(key));
      if (value === null || value === undefined) return 0;
      HEAPU32[out >> 2] = csNewString(value);
      return 1;
    }, -1);
  },

  // 1 when stored, 0 when the storage failed.
  cs_storage_set__deps: ['$csStorage'],
  cs_storage_set__sig: 'iiii',
  cs_storage_set: function (kind, key, value) {
    return csStorage(kind, function (area) {
      area.setItem(UTF8ToString(key), UTF8ToString(value));
      return 1;
    }, 0);
  },

  // 1 when removed (or absent), 0 when the storage failed.
  cs_storage_remove__deps: ['$csStorage'],
  cs_storage_remove__sig: 'iii',
  cs_storage_remove: function (kind, key) {
    return csStorage(kind, function (area) {
      area.removeItem(UTF8ToString(key));
      return 1;
    }, 0);
  },

  // The name of the last storage failure, malloc'd.
  cs_storage_error__deps: ['$csStorageFailure', '$csNewString'],
  cs_storage_error__sig: 'i',
  cs_storage_error: function () {
    return csNewString(csStorageFailure);
  },

  // ------------------------------------------------------------ events, console, clocks

  // A CustomEvent with a JSON detail on globalThis (or jsdom's window). The
  // event comes from the target's own realm: jsdom's window rejects Node's
  // CustomEvent.
  cs_dispatch_event__sig: 'vii',
  cs_dispatch_event: function (name, detail) {
    var g = globalThis;
    var w = g.window;
    var target = typeof g.dispatchEvent === 'function' ? g : w && typeof w.dispatchEvent === 'function' ? w : null;
    var Ctor = (w && w.CustomEvent) || g.CustomEvent;
    if (!target || !Ctor) return;
    var type = UTF8ToString(name);
    try {
      target.dispatchEvent(new Ctor(type, { detail: JSON.parse(UTF8ToString(detail)) }));
    } catch (e) {
      console.error('[Auth] Could not dispatch ' + type + ': ' + (e && e.message));
    }
  },

  // One log line: level 0-1 error, 2 warn, above that log.
  cs_console__sig: 'vii',
  cs_console: function (level, line) {
    var text = UTF8ToString(line);
    if (level <= 1) console.error(text);
    else if (level === 2) console.warn(text);
    else console.log(text);
  },

  // Wall-clock milliseconds since the epoch (event timestamps, JWT `exp`).
  cs_now__sig: 'd',
  cs_now: function () {
    return Date.now();
  },

  // The timers' own clock: monotonic, like the one setTimeout runs on.
  cs_monotonic_now__sig: 'd',
  cs_monotonic_now: function () {
    return performance.now();
  },

  // ------------------------------------------------------------ cross-tab channel (BroadcastTabChannel)

  // Opens channel `id`: a BroadcastChannel named `name` (returns 1), else the
  // `storage` event on a per-name localStorage key (returns 2), else nothing
  // (0). Messages go to cs_channel_deliver until cs_channel_close.
  cs_channel_open__deps: ['$csChannels', '$csNewString'],
  cs_channel_open__sig: 'iii',
  cs_channel_open: function (id, name) {
    var g = globalThis;
    var key = UTF8ToString(name);
    var state = {};
    var deliver = function (text) {
      if (typeof text !== 'string' || csChannels[id] !== state) return;
      var ptr = csNewString(text);
      _cs_channel_deliver(id, ptr);
      _free(ptr);
    };
    var mode = 0;
    if (typeof g.BroadcastChannel === 'function') {
      try {
        state.channel = new g.BroadcastChannel(key);
        state.channel.onmessage = function (event) {
          deliver(event.data);
        };
        mode = 1;
      } catch {
        state.channel = null;
      }
    }
    if (!mode && typeof g.addEventListener === 'function') {
      state.storageKey = 'cleanslate_msg:' + key;
      state.onStorage = function (event) {
        if (event.key !== state.storageKey || !event.newValue) return;
        try {
          deliver(JSON.parse(event.newValue)['m']);
        } catch {
          // not one of ours
        }
      };
      g.addEventListener('storage', state.onStorage);
      mode = 2;
    }
    csChannels[id] = state;
    return mode;
  },

  // Posts a message to the other tabs on channel `id`.
  cs_channel_post__deps: ['$csChannels'],
  cs_channel_post__sig: 'vii',
  cs_channel_post: function (id, message) {
    var state = csChannels[id];
    if (!state) return;
    var text = UTF8ToString(message);
    try {
      var storage = state.channel ? null : globalThis.localStorage;
      if (state.channel) {
        state.channel.postMessage(text);
      } else if (state.storageKey && storage) {
        // Setting then removing the key fires `storage` in the other tabs.
        storage.setItem(state.storageKey, JSON.stringify({ 'm': text, 'n': Math.random() }));
        storage.removeItem(state.storageKey);
      }
    } catch {
      // best effort: the other tabs also see the token change itself
    }
  },

  // Closes channel `id`; nothing is delivered for it afterwards.
  cs_channel_close__deps: ['$csChannels'],
  cs_channel_close__sig: 'vi',
  cs_channel_close: function (id) {
    var g = globalThis;
    var state = csChannels[id];
    if (!state) return;
    delete csChannels[id];
    try {
      if (state.channel) state.channel.close();
    } catch {
      // already closed
    }
    if (state.onStorage && typeof g.removeEventListener === 'function') {
      g.removeEventListener('storage', state.onStorage);
    }
  },

  // ------------------------------------------------------------ cross-tab lock (WebTabLock)

  // Asks for the lock `name` under request `id`; cs_lock_granted(id) runs
  // once it is held, until cs_lock_release(id). navigator.locks where
  // present; else a lease in localStorage that expires after `leaseMs`;
  // without localStorage this tab's own order is all there is.
  cs_lock_request__deps: ['$csLocks'],
  cs_lock_request__sig: 'viid',
  cs_lock_request: function (id, name, leaseMs) {
    var g = globalThis;
    var key = UTF8ToString(name);
    var grant = function (release) {
      csLocks[id] = release;
      _cs_lock_granted(id);
    };
    var locks = g.navigator && g.navigator.locks;
    if (locks && typeof locks.request === 'function') {
      try {
        locks
          .request(key, function () {
            return new Promise(function (resolve) {
              grant(resolve);
            });
          })
          .catch(function () {});
        return;
      } catch {
        // fall back to the lease
      }
    }
    var storage = null;
    try {
      storage = g.localStorage || null;
    } catch {
      // a sandboxed frame
    }
    if (!storage) {
      grant(function () {});
      return;
    }
    var leaseKey = 'cleanslate_lease:' + key;
    var owner = id + ':' + Math.random();
    // The lease in storage; {} when there is none (or it cannot be read).
    var read = function () {
      try {
        return JSON.parse(storage.getItem(leaseKey)) || {};
      } catch {
        return {};
      }
    };
    var attempt = function () {
      var current = read();
      if (current['expires'] > Date.now() && current['owner'] !== owner) {
        setTimeout(attempt, 25);
        return;
      }
      try {
        storage.setItem(leaseKey, JSON.stringify({ 'owner': owner, 'expires': Date.now() + leaseMs }));
      } catch {
        grant(function () {});
        return;
      }
      // A tab that wrote at the same moment shows itself within a few ms.
      setTimeout(function () {
        if (read()['owner'] !== owner) {
          setTimeout(attempt, 25);
          return;
        }
        grant(function () {
          if (read()['owner'] === owner) {
            try {
              storage.removeItem(leaseKey);
            } catch {
              // the lease expires by itself
            }
          }
        });
      }, 15);
    };
    attempt();
  },

  // Releases the lock held under request `id` (nothing when not held).
  cs_lock_release__deps: ['$csLocks'],
  cs_lock_release__sig: 'vi',
  cs_lock_release: function (id) {
    var release = csLocks[id];
    if (!release) return;
    delete csLocks[id];
    release();
  },

  // ------------------------------------------------------------ fetch (FetchTransport)

  // The one place that reaches into Emscripten's internals: the
  // XMLHttpRequest behind an emscripten_fetch_t, filed in Fetch.xhrs under
  // the struct's first field (its id) minus one. Emscripten 3.1.6's
  // emscripten_fetch_close() only forgets the XHR without aborting it, and
  // emscripten_fetch offers no cap on a body, so real cancellation and the
  // size cap need the XHR itself.
  $csFetchXhr__deps: ['$Fetch'],
  $csFetchXhr: function (fetch) {
    return Fetch.xhrs[HEAPU32[fetch >> 2] - 1];
  },

  // Aborts an XHR so that none of emscripten_fetch's handlers runs again.
  $csAbortXhr: function (xhr) {
    xhr.onload = xhr.onerror = xhr.ontimeout = xhr.onprogress = xhr.onreadystatechange = null;
    xhr.abort();
  },

  // Starts a request on a microtask rather than inside the caller's call, and
  // calls emscripten_fetch straight from that microtask. The XMLHttpRequest is
  // then created and sent from a shallow stack: a browser with its developer
  // tools attached records the JS stack of every request it sends, and the
  // session's own (wasm) frames under send() made that record several times
  // as costly as the rest of the request's work on the main thread.
  // cs_fetch_prepare gives the attributes (0: the request was dropped before
  // it started). emscripten_fetch lets a throwing XMLHttpRequest constructor,
  // open() or setRequestHeader() escape: that is caught here, the wasm stack
  // restored, and cs_fetch_started told (fetch 0) so it becomes an ordinary
  // network error. (A throwing send() it reports itself, through onerror.)
  cs_fetch_later__deps: csRuntimeDeps(['$stackSave', '$stackRestore']),
  cs_fetch_later__sig: 'vii',
  cs_fetch_later: function (ctx, url) {
    queueMicrotask(function () {
      var attr = _cs_fetch_prepare(ctx);
      if (!attr) return;
      var sp = stackSave();
      var fetch = 0;
      try {
        fetch = _emscripten_fetch(attr, url);
      } catch {
        stackRestore(sp);
      }
      _cs_fetch_started(fetch);
    });
  },

  // emscripten_fetch's own progress and readystatechange handlers only mirror
  // the XHR's state into the fetch struct, for callbacks the transport never
  // sets. They are replaced by a watch on the body's size: over `cap` bytes
  // (by Content-Length, then by what has arrived) the XHR is aborted at once
  // and cs_fetch_too_large called, before the body grows any further.
  cs_fetch_watch__deps: ['$csFetchXhr', '$csAbortXhr'],
  cs_fetch_watch__sig: 'vid',
  cs_fetch_watch: function (fetch, cap) {
    var xhr = csFetchXhr(fetch);
    if (!xhr) return;
    var over = function (bytes) {
      if (!(bytes > cap)) return;
      csAbortXhr(xhr);
      _cs_fetch_too_large(fetch);
    };
    xhr.onreadystatechange = function () {
      if (xhr.readyState === 2) over(Number(xhr.getResponseHeader('content-length')));
    };
    xhr.onprogress = function (e) {
      over(e.loaded);
    };
  },

  // The size of the fetch's response body, and, with `dst`, a copy of it
  // there (the body is read straight from the XHR, only once it is known to
  // be within the cap).
  cs_fetch_body__deps: ['$csFetchXhr'],
  cs_fetch_body__sig: 'dii',
  cs_fetch_body: function (fetch, dst) {
    var xhr = csFetchXhr(fetch);
    var body = xhr && xhr.response;
    if (!body) return 0;
    if (dst) HEAPU8.set(new Uint8Array(body), dst);
    return body.byteLength;
  },

  // Cancels a started fetch for real: its XHR is aborted, so the connection
  // closes instead of holding a slot of the browser's per-host pool.
  cs_fetch_abort__deps: ['$csFetchXhr', '$csAbortXhr'],
  cs_fetch_abort__sig: 'vi',
  cs_fetch_abort: function (fetch) {
    var xhr = csFetchXhr(fetch);
    if (xhr) csAbortXhr(xhr);
  },

  // Emscripten 3.1.6 files each XHR in Fetch.xhrs under its index + 1 and,
  // once the fetch is closed, only deletes the entry, so the array grows by
  // one slot per request for the life of the page. Closed entries at its end
  // are trimmed away; live ids (smaller than the length) are unaffected.
  cs_fetch_trim__deps: ['$Fetch'],
  cs_fetch_trim__sig: 'v',
  cs_fetch_trim: function () {
    var xhrs = Fetch.xhrs;
    if (!Array.isArray(xhrs)) return;
    while (xhrs.length > 0 && xhrs[xhrs.length - 1] === undefined) xhrs.length--;
  },

  // ------------------------------------------------------------ the app's reset hooks

  // Runs the reset hooks and cleaners of session `handle` (the JS entry's
  // Module.csReset, CONTRACT.md §5.2). A non-zero `token` asks the entry to
  // call _resetSettled(handle, token) once their asynchronous work has ended
  // or its bound has passed.
  cs_reset__deps: ['$csString'],
  cs_reset__sig: 'viii',
  cs_reset: function (handle, reason, token) {
    Module['csReset'](handle, csString(reason), token);
  },

  // ------------------------------------------------------------ results (wasm/bindings.cpp)

  // Each result goes to Module.csResult, the function the JS entry
  // (web/src/cleanslate.js) passed to the module factory, with the id under
  // which the entry keeps the waiting function (`callback`) and that
  // function's arguments.

  // login(): `code` is empty on success, else the error code with `error`
  // its message; `user` is the user object as JSON on success.
  cs_login_result__deps: ['$csString'],
  cs_login_result__sig: 'viiii',
  cs_login_result: function (callback, code, error, user) {
    Module['csResult'](callback, csString(code), csString(error), csString(user));
  },

  // logout(): `code` is empty once local state is clean; `backendNotified`
  // is 1 when the backend acknowledged the logout.
  cs_logout_result__deps: ['$csString'],
  cs_logout_result__sig: 'viii',
  cs_logout_result: function (callback, code, backendNotified) {
    Module['csResult'](callback, csString(code), backendNotified !== 0);
  },

  // request(): `code` is empty when an HTTP response arrived, with its
  // `status`, `bodyLength` bytes of `body`, the raw `headers` as
  // getAllResponseHeaders() gives them and the `statusText`; else the error
  // code (status 0). The body goes out as a copy of its bytes (a Uint8Array):
  // it may be binary, NULs included; the entry decodes text itself.
  cs_request_result__deps: ['$csString'],
  cs_request_result__sig: 'viiiiiii',
  cs_request_result: function (callback, code, status, body, bodyLength, headers, statusText) {
    Module['csResult'](callback, csString(code), status, HEAPU8.slice(body, body + bodyLength),
      csString(headers), csString(statusText));
  },
});
