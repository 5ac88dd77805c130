// Transport over emscripten_fetch. Each request owns a heap context that
// outlives the transport if it must: an XHR cannot be recalled, so an
// aborted request is only detached and its late answer dropped.
#include "fetch_transport.h"

#include <emscripten/emscripten.h>
#include <emscripten/fetch.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cleanslate {

// Emscripten 3.1.6 files each XHR in Fetch.xhrs under its index + 1 and,
// once the fetch is closed, only deletes the entry, so the array grows by one
// slot per request for the life of the page. Closed entries at its end are
// trimmed away here; live ids (smaller than the length) are unaffected.
EM_JS(void, cs_fetch_trim, (), {
  var xhrs = typeof Fetch === "object" && Fetch ? Fetch.xhrs : null;
  if (!Array.isArray(xhrs)) return;
  while (xhrs.length > 0 && xhrs[xhrs.length - 1] === undefined) xhrs.length--;
});

// emscripten_fetch gives every XHR progress and readystatechange handlers
// that only mirror its state into the fetch struct, for callbacks this
// transport never sets; each one costs an event dispatch into the wasm glue
// per state change. Once a request is under way they are taken off again.
EM_JS(void, cs_fetch_lean, (const void* fetch), {
  var xhrs = typeof Fetch === "object" && Fetch ? Fetch.xhrs : null;
  if (!Array.isArray(xhrs)) return;
  var xhr = xhrs[HEAPU32[fetch >> 2] - 1];
  if (xhr) {
    xhr.onprogress = null;
    xhr.onreadystatechange = null;
  }
});

// Starts a request on a microtask rather than inside the caller's call, and
// calls emscripten_fetch straight from that microtask. The XMLHttpRequest is
// then created and sent from a shallow stack: a browser with its developer
// tools attached records the JS stack of every request it sends, and the
// session's own (wasm) frames under send() made that record several times as
// costly as the rest of the request's work on the main thread.
// cs_fetch_prepare gives the attributes (0: the request was dropped before
// it started). emscripten_fetch lets a throwing XMLHttpRequest constructor,
// open() or setRequestHeader() escape: that is caught here, the wasm stack
// restored, and cs_fetch_started told (fetch 0) so it becomes an ordinary
// network error. (A throwing send() it reports itself, through onerror.)
EM_JS(void, cs_fetch_later, (void* ctx, const char* url), {
  queueMicrotask(function() {
    var attr = _cs_fetch_prepare(ctx);
    if (!attr) return;
    var sp = stackSave();
    var fetch = 0;
    try {
      fetch = _emscripten_fetch(attr, url);
    } catch (e) {
      stackRestore(sp);
    }
    _cs_fetch_started(fetch);
  });
});

struct FetchTransport::Context {
  FetchTransport* owner = nullptr;  // null once aborted or once the transport is gone
  uint64_t handle = 0;
  Transport::Done done;
  bool finished = false;
  HttpRequest request;  // a copy: emscripten_fetch reads it when the request starts
  std::unique_ptr<const char*[]> headerPtrs;  // name, value, ..., null
  emscripten_fetch_attr_t attr;
};

namespace {

void onFetchDone(emscripten_fetch_t* fetch) {
  auto* ctx = static_cast<FetchTransport::Context*>(fetch->userData);
  if (ctx->finished) return;  // re-entered from emscripten_fetch_close below
  ctx->finished = true;
  HttpResponse response;
  response.status = fetch->status;
  if (response.status == 0) response.error = TransportError::Network;
  if (fetch->data != nullptr && fetch->numBytes > 0) {
    response.body.assign(fetch->data, static_cast<std::size_t>(fetch->numBytes));
  }
  // One getAllResponseHeaders() call when the headers fit the stack buffer
  // (the usual case); the length query and a second call only when not.
  // Nothing is written (0 is returned) before the headers have arrived.
  char small[1024];
  small[0] = '\0';
  const std::size_t copied = emscripten_fetch_get_response_headers(fetch, small, sizeof(small));
  if (copied == 0) {
    // no response headers (the request failed before any arrived)
  } else if (copied < sizeof(small)) {
    response.rawHeaders = small;
  } else {
    const std::size_t headerLength = emscripten_fetch_get_response_headers_length(fetch);
    std::vector<char> raw(headerLength + 1, '\0');
    emscripten_fetch_get_response_headers(fetch, raw.data(), raw.size());
    response.rawHeaders = raw.data();
  }
  emscripten_fetch_close(fetch);
  cs_fetch_trim();
  Transport::Done done;
  if (ctx->owner != nullptr) {
    ctx->owner->release(ctx->handle);
    done = std::move(ctx->done);
  }
  delete ctx;
  if (done) done(std::move(response));
}

}  // namespace

FetchTransport::~FetchTransport() {
  while (void* entry = inFlight_.takeLast()) {
    auto* ctx = static_cast<Context*>(entry);
    ctx->owner = nullptr;
    ctx->done = nullptr;
  }
}

uint64_t FetchTransport::send(const HttpRequest& request, Done done) {
  auto* ctx = new Context();
  ctx->owner = this;
  ctx->handle = nextHandle_++;
  ctx->done = std::move(done);
  ctx->request = request;
  const Headers& headers = ctx->request.headers;
  ctx->headerPtrs.reset(new const char*[headers.size() * 2 + 1]);
  std::size_t next = 0;
  for (const auto& header : headers) {
    ctx->headerPtrs[next++] = header.first.c_str();
    ctx->headerPtrs[next++] = header.second.c_str();
  }
  ctx->headerPtrs[next] = nullptr;
  inFlight_.put(ctx->handle, ctx);

  emscripten_fetch_attr_t& attr = ctx->attr;
  emscripten_fetch_attr_init(&attr);
  std::strncpy(attr.requestMethod, ctx->request.method.c_str(), sizeof(attr.requestMethod) - 1);
  // REPLACE skips the IndexedDB cache: a session response is never cached.
  attr.attributes = EMSCRIPTEN_FETCH_LOAD_TO_MEMORY | EMSCRIPTEN_FETCH_REPLACE;
  attr.onsuccess = onFetchDone;
  attr.onerror = onFetchDone;
  attr.userData = ctx;
  attr.timeoutMSecs = request.timeoutMs;
  attr.requestHeaders = ctx->headerPtrs.get();
  if (request.hasBody) {
    attr.requestData = ctx->request.body.data();
    attr.requestDataSize = ctx->request.body.size();
  }
  cs_fetch_later(ctx, ctx->request.url.c_str());
  return ctx->handle;
}

void FetchTransport::started(uint64_t handle, void* fetch) {
  if (fetch != nullptr) {
    // Still in flight (not answered synchronously): its struct is alive.
    if (inFlight_.find(handle) != nullptr) cs_fetch_lean(fetch);
    return;
  }
  // Never started (no callback will come): report a network failure now.
  auto* failedCtx = static_cast<Context*>(inFlight_.take(handle));
  if (failedCtx == nullptr) return;  // already answered synchronously
  Done failed = std::move(failedCtx->done);
  delete failedCtx;
  HttpResponse response;
  response.error = TransportError::Network;
  if (failed) failed(std::move(response));
}

void FetchTransport::abort(uint64_t handle) {
  auto* ctx = static_cast<Context*>(inFlight_.take(handle));
  if (ctx == nullptr) return;
  ctx->owner = nullptr;
  ctx->done = nullptr;
}

}  // namespace cleanslate

namespace {
// The request between cs_fetch_prepare and cs_fetch_started: nothing else
// runs in between but its own emscripten_fetch call.
cleanslate::FetchTransport* startingTransport = nullptr;
uint64_t startingHandle = 0;
}  // namespace

extern "C" EMSCRIPTEN_KEEPALIVE void* cs_fetch_prepare(void* ctx) {
  auto* context = static_cast<cleanslate::FetchTransport::Context*>(ctx);
  if (context->owner == nullptr) {  // aborted, or the transport is gone, before it started
    delete context;
    return nullptr;
  }
  startingTransport = context->owner;
  startingHandle = context->handle;
  return &context->attr;
}

extern "C" EMSCRIPTEN_KEEPALIVE void cs_fetch_started(void* fetch) {
  cleanslate::FetchTransport* transport = startingTransport;
  startingTransport = nullptr;
  if (transport != nullptr) transport->started(startingHandle, fetch);
}
