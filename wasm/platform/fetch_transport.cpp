// Transport over emscripten_fetch. Each request owns a heap context. A
// request that ends early (timeout, reset, logout, dispose) is really
// cancelled: its XMLHttpRequest is aborted, so the connection closes and the
// browser's per-host connection pool is not filled by requests nobody waits
// for. The body is read from the XHR straight into the response, and only
// when it is within the request's cap, checked as it arrives. The XHR
// itself is reached through library_cleanslate.js (cs_fetch_*).
#include "fetch_transport.h"

#include "library_cleanslate.h"

#include <emscripten/emscripten.h>
#include <emscripten/fetch.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace cleanslate {

struct FetchTransport::Context {
  Context(FetchTransport* transport, uint64_t id, const HttpRequest& sent, Transport::Done callback)
      : owner(transport), handle(id), done(std::move(callback)), request(sent) {}
  FetchTransport* owner;  // null once aborted or once the transport is gone
  uint64_t handle;
  emscripten_fetch_t* fetch = nullptr;  // once started
  uint32_t maxBytes = 0;
  Transport::Done done;
  bool finished = false;
  HttpRequest request;                        // a copy: emscripten_fetch reads it when the request starts
  std::unique_ptr<const char*[]> headerPtrs;  // name, value, ..., null
  emscripten_fetch_attr_t attr;
};

namespace {

// Reads the answer of a request that completed into `response`: its status,
// its body when within `maxBytes`, and, when it is an HTTP answer, its
// reason phrase and headers.
void readAnswer(emscripten_fetch_t* fetch, uint32_t maxBytes, HttpResponse* response) {
  response->status = fetch->status;
  if (response->status == 0) response->error = TransportError::Network;
  const double length = cs_fetch_body(fetch, nullptr);
  if (length > maxBytes) {
    // Arrived whole before any progress event could stop it: dropped here.
    response->error = TransportError::TooLarge;
    response->status = 0;
  } else if (length > 0) {
    response->body.resize(static_cast<std::size_t>(length));
    cs_fetch_body(fetch, &response->body[0]);
  }
  if (response->error != TransportError::None) return;
  response->statusText.assign(fetch->statusText, strnlen(fetch->statusText, sizeof(fetch->statusText)));
  // One getAllResponseHeaders() call when the headers fit the stack buffer
  // (the usual case); the length query and a second call only when not.
  // Nothing is written (0 is returned) before the headers have arrived:
  // then there are none.
  char small[1024];
  small[0] = '\0';
  if (emscripten_fetch_get_response_headers(fetch, small, sizeof(small)) < sizeof(small)) {
    response->rawHeaders = small;
  } else {
    // The length counts the terminating NUL, which the string has room for.
    std::string& raw = response->rawHeaders;
    raw.resize(emscripten_fetch_get_response_headers_length(fetch) - 1);
    emscripten_fetch_get_response_headers(fetch, &raw[0], raw.size() + 1);
  }
}

// Hands `response` to the request's owner, if any, and frees its context.
void answer(FetchTransport::Context* ctx, HttpResponse&& response) {
  Transport::Done done;
  if (ctx->owner != nullptr) {
    ctx->owner->release(ctx->handle);
    done = std::move(ctx->done);
  }
  delete ctx;
  if (done) done(std::move(response));
}

// Ends a started request: reads its answer (unless `forced` says how it
// ended), closes the fetch and hands the answer to its owner, if any.
void finishFetch(emscripten_fetch_t* fetch, TransportError forced) {
  auto* ctx = static_cast<FetchTransport::Context*>(fetch->userData);
  if (ctx->finished) return;  // re-entered from emscripten_fetch_close below
  ctx->finished = true;
  HttpResponse response;
  response.error = forced;
  if (forced == TransportError::None) readAnswer(fetch, ctx->maxBytes, &response);
  emscripten_fetch_close(fetch);
  cs_fetch_trim();
  answer(ctx, std::move(response));
}

void onFetchDone(emscripten_fetch_t* fetch) { finishFetch(fetch, TransportError::None); }

// Cancels a request, whose `done` is then never called. A started one has
// its XHR aborted (its handlers never run) and its fetch closed; one not
// started yet is dropped by cs_fetch_prepare.
void cancelFetch(FetchTransport::Context* ctx) {
  ctx->owner = nullptr;
  ctx->done = nullptr;
  if (ctx->fetch == nullptr) return;
  cs_fetch_abort(ctx->fetch);
  finishFetch(ctx->fetch, TransportError::Network);
}

}  // namespace

// From cs_fetch_watch: the body outgrew its cap and the XHR was aborted.
extern "C" EMSCRIPTEN_KEEPALIVE void cs_fetch_too_large(void* fetch) {
  finishFetch(static_cast<emscripten_fetch_t*>(fetch), TransportError::TooLarge);
}

FetchTransport::~FetchTransport() {
  while (void* ctx = inFlight_.takeLast()) cancelFetch(static_cast<Context*>(ctx));
}

uint64_t FetchTransport::send(const HttpRequest& request, Done done) {
  auto* ctx = new Context(this, nextHandle_++, request, std::move(done));
  ctx->maxBytes = request.maxResponseBytes;
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
  // At most 31 bytes; emscripten_fetch_attr_init zeroed the rest.
  const std::string& method = ctx->request.method;
  std::memcpy(attr.requestMethod, method.data(), std::min(method.size(), sizeof(attr.requestMethod) - 1));
  // REPLACE skips the IndexedDB cache: a session response is never cached.
  // No LOAD_TO_MEMORY: finishFetch copies the body itself, within the cap.
  attr.attributes = EMSCRIPTEN_FETCH_REPLACE;
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
  auto* ctx = static_cast<Context*>(inFlight_.find(handle));
  if (ctx == nullptr) return;  // already answered synchronously
  if (fetch == nullptr) {
    // Never started (no callback will come): a network failure, reported now.
    HttpResponse response;
    response.error = TransportError::Network;
    return answer(ctx, std::move(response));
  }
  // Still in flight: its struct is alive.
  ctx->fetch = static_cast<emscripten_fetch_t*>(fetch);
  cs_fetch_watch(fetch, ctx->maxBytes);
}

void FetchTransport::abort(uint64_t handle) {
  auto* ctx = static_cast<Context*>(inFlight_.take(handle));
  if (ctx != nullptr) cancelFetch(ctx);
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
