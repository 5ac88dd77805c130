// The request pipeline (see request_pipeline.h).
#include "request_pipeline.h"

#include <cctype>
#include <memory>
#include <utility>

#include "url.h"

namespace cleanslate {
namespace {

bool isUnsafe(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

bool isKnownMethod(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || isUnsafe(method);
}

}  // namespace

RequestPipeline::RequestPipeline(const Config& config, Transport& transport, Scheduler& scheduler,
                                 const uint64_t& generation, const Liveness& alive, Credentials& credentials,
                                 CsrfCache& csrf, RefreshCoordinator& refresh)
    : config_(config),
      transport_(transport),
      scheduler_(scheduler),
      generation_(generation),
      credentials_(credentials),
      csrf_(csrf),
      refresh_(refresh),
      alive_(alive) {}

uint64_t RequestPipeline::request(const std::string& methodIn, const std::string& target, RequestOptions options,
                                  CallDone done) {
  std::string method = methodIn;
  for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const ResolvedTarget resolved = resolveTarget(config_.apiBase, config_.apiOrigin, target);
  bool valid = resolved.readable && isKnownMethod(method) && isHeaderValue(options.contentType);
  for (const auto& header : options.headers) {
    valid = valid && isHeaderName(header.first) && isHeaderValue(header.second);
  }
  if (!valid) {
    done({ErrorCode::InvalidArgument, {}});
    return 0;
  }
  return start(method, resolved, std::move(options), false, std::move(done));
}

uint64_t RequestPipeline::postAuth(const std::string& path, std::string jsonBody, CallDone done) {
  RequestOptions options;
  options.body = std::move(jsonBody);
  options.hasBody = true;
  options.contentType = "application/json";
  return start("POST", resolveTarget(config_.apiBase, config_.apiOrigin, path), std::move(options), true,
               std::move(done));
}

uint64_t RequestPipeline::start(const std::string& method, const ResolvedTarget& resolved, RequestOptions&& options,
                                bool auth, CallDone done) {
  const uint64_t id = nextId_++;
  Call& call = calls_.emplace(id, scheduler_, std::move(done));
  call.generation = generation_;
  call.sameOrigin = resolved.sameOrigin;
  call.unsafe = isUnsafe(method);
  call.auth = auth;
  HttpRequest& request = call.request;
  request.method = method;
  request.url = resolved.url;
  addFixedHeaders(options, resolved.sameOrigin, &request.headers);
  request.body = std::move(options.body);
  request.hasBody = options.hasBody;
  request.maxResponseBytes = auth ? config_.maxAuthResponseBytes : config_.maxResponseBytes;
  call.fixedHeaders = request.headers.size();
  call.deadline.arm(config_.requestTimeoutMs, [this, id]() { settle(id, ErrorCode::Timeout); });
  advance(id);
  return id;
}

void RequestPipeline::resume(uint64_t id, std::optional<ErrorCode> error) {
  if (error) {
    settle(id, *error);
  } else {
    advance(id);
  }
}

void RequestPipeline::advance(uint64_t id) {
  Call* call = calls_.find(id);
  if (call == nullptr) return;
  if (call->generation != generation_) return settle(id, ErrorCode::SessionChanged);
  if (call->sameOrigin && call->unsafe && !csrf_.current()) return csrf_.wait(id);
  transmit(id);
}

void RequestPipeline::addFixedHeaders(const RequestOptions& options, bool sameOrigin, Headers* headers) const {
  bool hasContentType = false;
  const std::string csrfHeader = asciiLower(config_.csrfHeader);
  for (const auto& header : options.headers) {
    const std::string name = asciiLower(header.first);  // header names are case-insensitive
    if (sameOrigin && (name == "authorization" || name == csrfHeader || name == "cache-control" || name == "pragma" ||
                       name == "expires")) {
      continue;  // the session owns these on its own origin
    }
    hasContentType = hasContentType || name == "content-type";
    addHeader(headers, header.first, header.second);
  }
  if (options.hasBody && !hasContentType && !options.contentType.empty()) {
    addHeader(headers, "Content-Type", options.contentType);
  }
  if (sameOrigin) addNoCacheHeaders(headers);
}

void RequestPipeline::transmit(uint64_t id) {
  Call& call = *calls_.find(id);  // advance() found it
  call.accessUsed = call.sameOrigin && !call.auth ? credentials_.heldAccess() : std::string();
  call.csrfUsed = call.sameOrigin && call.unsafe ? csrf_.token() : std::string();
  Headers& headers = call.request.headers;
  while (headers.size() > call.fixedHeaders) headers.pop_back();  // the last attempt's own
  if (!call.accessUsed.empty()) addHeader(&headers, "Authorization", "Bearer " + call.accessUsed);
  if (!call.csrfUsed.empty()) addHeader(&headers, config_.csrfHeader, call.csrfUsed);
  const uint64_t attempt = ++call.attempt;
  call.inTransport = true;
  const uint64_t handle =
      transport_.send(call.request, [this, alive = alive_.watch(), id, attempt](HttpResponse response) {
        if (alive) onResponse(id, attempt, std::move(response));
      });
  Call* sent = calls_.find(id);  // the transport may have answered synchronously
  if (sent != nullptr && sent->attempt == attempt && sent->inTransport) sent->transportHandle = handle;
}

void RequestPipeline::onResponse(uint64_t id, uint64_t attempt, HttpResponse&& response) {
  Call* found = calls_.find(id);
  if (found == nullptr || found->attempt != attempt) return;
  Call& call = *found;
  call.inTransport = false;
  if (call.generation != generation_) return settle(id, ErrorCode::SessionChanged);
  if (response.error != TransportError::None) return settle(id, transportCode(response.error, call.auth));
  if (response.status == 403 && call.sameOrigin && call.unsafe && !call.csrfRetried) {
    std::string code;
    if (parsedString(response.body, "code", &code) && code == "csrf_invalid") {
      call.csrfRetried = true;
      csrf_.rejected(call.csrfUsed);
      return advance(id);
    }
  }
  if (response.status == 401 && !call.auth && !call.accessUsed.empty() && !call.replayed) {
    return onUnauthorized(id, std::move(response));
  }
  settle(id, std::move(response));
}

void RequestPipeline::onUnauthorized(uint64_t id, HttpResponse&& response) {
  Call& call = *calls_.find(id);
  call.replayed = true;
  const std::string current = credentials_.heldAccess();
  if (!current.empty() && current != call.accessUsed) return advance(id);  // another refresh replaced the token
  if (credentials_.heldRefresh().empty()) return settle(id, std::move(response));
  const std::string seen = call.accessUsed;  // the call may be gone when wait() returns
  refresh_.wait(id, std::move(response), seen);
}

void RequestPipeline::answer(std::vector<RefreshWaiter> waiters, RefreshVerdict verdict) {
  for (auto& waiter : waiters) {
    if (verdict.replay) {
      advance(waiter.call);
    } else if (verdict.error) {
      settle(waiter.call, *verdict.error);
    } else {
      settle(waiter.call, std::move(waiter.original));
    }
  }
}

std::unique_ptr<RequestPipeline::Call> RequestPipeline::release(uint64_t id) {
  std::unique_ptr<Call> call = calls_.take(id);
  if (call == nullptr) return call;
  call->deadline.cancel();
  if (call->inTransport) transport_.abort(call->transportHandle);
  return call;
}

void RequestPipeline::settle(uint64_t id, ErrorCode error) { deliver(id, {error, {}}); }

void RequestPipeline::settle(uint64_t id, HttpResponse&& response) { deliver(id, {std::nullopt, std::move(response)}); }

void RequestPipeline::deliver(uint64_t id, CallResult&& result) {
  const std::unique_ptr<Call> call = release(id);
  if (call != nullptr) call->done(std::move(result));
}

void RequestPipeline::cancel(uint64_t id) {
  const Call* call = calls_.find(id);
  // A CSRF or refresh wait that still names the call finds it gone and
  // skips it; the token fetch or refresh itself goes on for the others.
  if (call != nullptr && !call->auth) release(id);
}

void RequestPipeline::settleAll(ErrorCode error) {
  for (uint64_t id : calls_.ids()) settle(id, error);
}

}  // namespace cleanslate
