// The session core (see session.h).
#include "session.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <utility>

#include "json.h"
#include "jwt.h"
#include "url.h"

namespace cleanslate {
namespace {

constexpr double kMaxTimerMs = 24.0 * 24 * 3600 * 1000;  // below setTimeout's 2^31-1 ms limit
constexpr double kMaxProactiveBackoffMs = 60000;
constexpr double kFirstProactiveRetryMs = 5000;  // after a failed refresh, then doubling
constexpr std::size_t kMaxDetailChars = 200;
constexpr int kMaxRefreshRetries = 3;           // for 429/503 answers to a refresh
constexpr double kRefreshBackoffBaseMs = 500;   // doubled per attempt, with jitter
constexpr double kMaxRetryAfterMs = 10000;      // cap on Retry-After and on the backoff

// The body of POST /auth/refresh and of POST /auth/logout.
std::string refreshBody(const std::string& refreshToken) {
  return "{\"refresh_token\":" + jsonString(refreshToken) + "}";
}

bool iequals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

bool isUnsafe(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

bool isKnownMethod(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || isUnsafe(method);
}

// An auth answer over its cap is one the core does not understand; an API
// answer over its cap is the caller's to know about.
const char* transportCode(TransportError error, bool authAnswer) {
  if (error == TransportError::TooLarge) return authAnswer ? code::kBadResponse : code::kResponseTooLarge;
  return error == TransportError::Timeout ? code::kTimeout : code::kNetwork;
}

const char* noticeFailure(TransportError error) {
  if (error == TransportError::TooLarge) return "response too large";
  return error == TransportError::Timeout ? "timeout" : "network error";
}

// The non-empty string member `key` of the JSON object `text`.
bool parsedString(const std::string& text, const char* key, std::string* out) {
  JsonObject object;
  return object.parse(text) && object.string(key, out);
}

// The `detail` message of an error body, shortened; never echoes anything
// that is not a plain string.
std::string errorDetail(const HttpResponse& response, const std::string& fallback) {
  std::string detail;
  if (!parsedString(response.body, "detail", &detail)) return fallback;
  if (detail.size() > kMaxDetailChars) detail.resize(kMaxDetailChars);
  return detail;
}

std::string bodyCode(const HttpResponse& response) {
  std::string value;
  parsedString(response.body, "code", &value);
  return value;
}

// A short, non-reversible fingerprint of a token, so tabs can tell which
// token another tab means without the token itself crossing the channel.
std::string fingerprint(const std::string& token) {
  uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : token) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  static const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) out[static_cast<std::size_t>(i)] = digits[hash & 15];
  return out;
}

// The finite number member `key` of a JSON object.
std::optional<double> numberMember(const JsonObject& object, const char* key) {
  const JsonMember* it = object.find(key);
  if (it == nullptr || it->kind != JsonKind::Number || !std::isfinite(it->number)) return std::nullopt;
  return it->number;
}

// How long tokens just received live: the answer's `expires_in`, else the
// access token's `exp - iat`. Both are durations, so a client clock that is
// off does not matter.
std::optional<double> receivedLifetimeSec(const JsonObject& body, const std::string& access) {
  if (const auto expiresIn = numberMember(body, "expires_in")) {
    if (*expiresIn > 0) return expiresIn;
  }
  const auto times = jwtTimes(access);
  if (times && times->iat && times->exp > *times->iat) return times->exp - *times->iat;
  return std::nullopt;
}

constexpr double kStoragePollMs = 20;
constexpr int kStoragePolls = 50;  // a second for another tab's write to show here

void addNoCacheHeaders(Headers* headers) {
  // A table, so that one emplace_back serves all three.
  static const char* const kNoCache[][2] = {
      {"Cache-Control", "no-cache, no-store, must-revalidate"}, {"Pragma", "no-cache"}, {"Expires", "0"}};
  for (const auto& header : kNoCache) headers->emplace_back(header[0], header[1]);
}

}  // namespace

template <typename F>
Callback<void()> Session::guarded(F f) {
  Liveness::Watch alive = alive_.watch();
  return [alive, f]() mutable {
    if (alive) f();
  };
}

Session::Session(Config config, const Platform& platform)
    : config_(std::move(config)),
      platform_(platform),
      tokens_(platform.store, [this](const std::string& line) { log(LogLevel::Warn, line); }) {
  active_ = tokens_.hasTokens();
  if (platform_.channel != nullptr) {
    Liveness::Watch alive = alive_.watch();
    platform_.channel->open("cleanslate:" + config_.apiBase, [this, alive](const std::string& message) {
      if (alive) onTabMessage(message);
    });
  }
  scheduleProactiveRefresh();
}

Session::~Session() { dispose(); }

// ---------------------------------------------------------------- logging, events

bool Session::logs(LogLevel level) const {
  return level != LogLevel::Silent && static_cast<int>(level) <= static_cast<int>(config_.logLevel);
}

void Session::log(LogLevel level, const std::string& line) {
  if (logs(level)) platform_.log->write(level, line);
}

void Session::log(LogLevel level, const char* line) {
  if (logs(level)) platform_.log->write(level, line);
}

void Session::emit(const char* name, const std::string& extraJsonFields) {
  const auto timestamp = static_cast<long long>(std::floor(platform_.scheduler->nowMs()));
  std::string detail = "{\"timestamp\":" + decimal(timestamp);
  if (!extraJsonFields.empty()) detail += "," + extraJsonFields;
  detail += "}";
  platform_.events->dispatch(name, detail);
}

std::string Session::storageName() const {
  if (tokens_.inMemoryFallback()) return "memory";
  switch (config_.storage) {
    case StorageMode::Local: return "localStorage";
    case StorageMode::Session: return "sessionStorage";
    case StorageMode::Memory: return "memory";
  }
  return "memory";
}

// ---------------------------------------------------------------- public API

bool Session::isAuthenticated() { return !disposed_ && active_ && tokens_.hasTokens(); }

// Tokens count only while this tab holds a session: storage shared with other
// tabs may show a session this tab has not joined yet, or one that has ended.
// A stored token that could not be sent as a header (CR, LF, NUL: storage is
// writable by any script of the origin) counts as absent.
std::string Session::heldAccess() {
  if (!active_) return {};
  std::string access = tokens_.access();
  return isHeaderValue(access) ? access : std::string();
}
std::string Session::heldRefresh() { return active_ ? tokens_.refresh() : std::string(); }

std::string Session::userJson() {
  if (disposed_ || !active_ || !tokens_.hasTokens()) return "null";
  std::string user = tokens_.userJson();
  if (!isJsonObject(user)) return "null";
  return user;
}

void Session::request(const std::string& methodIn, const std::string& target, RequestOptions options,
                      RequestCallback done) {
  if (disposed_) {
    done({code::kDisposed, {}});
    return;
  }
  std::string method = methodIn;
  for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  bool valid = isKnownMethod(method);
  for (const auto& header : options.headers) {
    valid = valid && isHeaderName(header.first) && isHeaderValue(header.second);
  }
  valid = valid && isHeaderValue(options.contentType);
  if (!valid) {
    done({code::kInvalidArgument, {}});
    return;
  }
  startCall(Kind::User, method, target, std::move(options), false, std::move(done));
}

void Session::resetCsrfToken() {
  dropCsrfToken();
  log(LogLevel::Info, "[CSRF] Token cache reset for new session");
}

void Session::dropCsrfToken() {
  ++csrfEpoch_;
  csrfToken_.clear();
  csrfGeneration_ = 0;
  if (csrfFetching_) {
    platform_.transport->abort(csrfHandle_);
    platform_.scheduler->clearTimer(csrfTimer_);
    csrfFetching_ = false;
  }
  // Requests that were waiting for the dropped fetch start over on the next
  // turn: by then a logout has also moved the generation on, so they end
  // without touching the network. (There are waiters exactly while a fetch
  // is under way.)
  if (!csrfWaiters_.empty()) {
    std::vector<uint64_t> waiters;
    waiters.swap(csrfWaiters_);
    platform_.scheduler->setTimer(0, guarded([this, waiters]() {
      for (uint64_t id : waiters) advance(id);
    }));
  }
}

void Session::resetApiState() {
  beginGeneration();
  log(LogLevel::Info, "[API] Interceptor state reset for new session");
}

void Session::beginGeneration() {
  ++generation_;
  cancelProactiveRefresh();
  refreshInFlight_ = false;
  refreshCall_ = 0;
  if (refreshRetryTimer_ != 0) platform_.scheduler->clearTimer(refreshRetryTimer_);
  refreshRetryTimer_ = 0;
  releaseRefreshLock();
  // Every call still held was started under an earlier generation.
  for (uint64_t id : calls_.ids()) settle(id, code::kSessionChanged);
  refreshWaiters_.clear();  // all of them were settled above
}

void Session::dispose() {
  if (disposed_) return;
  disposed_ = true;
  cancelProactiveRefresh();
  if (csrfFetching_) {
    platform_.transport->abort(csrfHandle_);
    platform_.scheduler->clearTimer(csrfTimer_);
    csrfFetching_ = false;
  }
  csrfWaiters_.clear();
  refreshWaiters_.clear();
  if (refreshRetryTimer_ != 0) platform_.scheduler->clearTimer(refreshRetryTimer_);
  refreshRetryTimer_ = 0;
  releaseRefreshLock();
  if (platform_.channel != nullptr) platform_.channel->close();
  for (uint64_t id : calls_.ids()) settle(id, code::kDisposed);
  for (uint64_t id : notices_.ids()) finishNotice(id, false, "");
  alive_.reset();
}

// ---------------------------------------------------------------- request pipeline

uint64_t Session::startCall(Kind kind, const std::string& method, const std::string& target,
                            RequestOptions options, bool authEndpoint, RequestCallback done) {
  const uint64_t id = nextId_++;
  const ResolvedTarget resolved = resolveTarget(config_.apiBase, config_.apiOrigin, target);
  Call call;
  call.kind = kind;
  call.generation = generation_;
  call.method = method;
  call.url = resolved.url;
  call.sameOrigin = resolved.sameOrigin;
  call.unsafe = isUnsafe(method);
  call.authEndpoint = authEndpoint;
  call.options = std::move(options);
  call.done = std::move(done);
  call.timer = platform_.scheduler->setTimer(config_.requestTimeoutMs, guarded([this, id]() {
    Call* found = calls_.find(id);
    if (found == nullptr) return;
    found->timer = 0;
    settle(id, code::kTimeout);
  }));
  calls_.emplace(id, std::move(call));
  advance(id);
  return id;
}

void Session::advance(uint64_t id) {
  Call* found = calls_.find(id);
  if (found == nullptr) return;
  Call& call = *found;
  if (call.generation != generation_) {
    settle(id, code::kSessionChanged);
    return;
  }
  if (call.sameOrigin && call.unsafe && (csrfToken_.empty() || csrfGeneration_ != generation_)) {
    csrfWaiters_.push_back(id);
    if (!csrfFetching_) fetchCsrf();
    return;
  }
  transmit(id);
}

Headers Session::buildHeaders(const Call& call) const {
  Headers headers;
  bool hasContentType = false;
  for (const auto& header : call.options.headers) {
    if (call.sameOrigin &&
        (iequals(header.first, "Authorization") || iequals(header.first, config_.csrfHeader) ||
         iequals(header.first, "Cache-Control") || iequals(header.first, "Pragma") ||
         iequals(header.first, "Expires"))) {
      continue;  // the session owns these on its own origin
    }
    hasContentType = hasContentType || iequals(header.first, "Content-Type");
    headers.push_back(header);
  }
  if (call.options.hasBody && !hasContentType && !call.options.contentType.empty()) {
    headers.emplace_back("Content-Type", call.options.contentType);
  }
  if (!call.sameOrigin) return headers;
  addNoCacheHeaders(&headers);
  if (!call.accessUsed.empty()) headers.emplace_back("Authorization", "Bearer " + call.accessUsed);
  if (!call.csrfUsed.empty()) headers.emplace_back(config_.csrfHeader, call.csrfUsed);
  return headers;
}

void Session::transmit(uint64_t id) {
  Call* found = calls_.find(id);
  if (found == nullptr) return;
  Call& call = *found;
  call.accessUsed = (call.sameOrigin && !call.authEndpoint) ? heldAccess() : std::string();
  call.csrfUsed = (call.sameOrigin && call.unsafe) ? csrfToken_ : std::string();
  HttpRequest request;
  request.method = call.method;
  request.url = call.url;
  request.headers = buildHeaders(call);
  request.body = call.options.body;
  request.hasBody = call.options.hasBody;
  request.timeoutMs = 0;  // the core's own timer is the bound (see interfaces.h)
  request.maxResponseBytes = call.kind == Kind::User ? config_.maxResponseBytes : config_.maxAuthResponseBytes;
  const uint64_t attempt = ++call.attempt;
  call.inTransport = true;
  Liveness::Watch alive = alive_.watch();
  const uint64_t handle = platform_.transport->send(request, [this, alive, id, attempt](HttpResponse response) {
    if (alive) onResponse(id, attempt, std::move(response));
  });
  found = calls_.find(id);  // the transport may have answered synchronously
  if (found != nullptr && found->attempt == attempt && found->inTransport) {
    found->transportHandle = handle;
  }
}

void Session::onResponse(uint64_t id, uint64_t attempt, HttpResponse response) {
  Call* found = calls_.find(id);
  if (found == nullptr || found->attempt != attempt) return;
  Call& call = *found;
  call.inTransport = false;
  if (call.generation != generation_) {
    settle(id, code::kSessionChanged);
    return;
  }
  if (response.error != TransportError::None) {
    settle(id, transportCode(response.error, call.kind != Kind::User));
    return;
  }
  if (response.status == 403 && call.sameOrigin && call.unsafe && !call.csrfRetried &&
      bodyCode(response) == "csrf_invalid") {
    call.csrfRetried = true;
    if (csrfToken_ == call.csrfUsed) {
      csrfToken_.clear();
      csrfGeneration_ = 0;
    }
    advance(id);
    return;
  }
  if (response.status == 401 && call.kind == Kind::User && !call.accessUsed.empty() && !call.replayed) {
    onUnauthorized(id, std::move(response));
    return;
  }
  settle(id, "", std::move(response));
}

void Session::settle(uint64_t id, const char* errorCode) { settle(id, errorCode, {}); }

void Session::settle(uint64_t id, const char* errorCode, HttpResponse response) {
  const std::unique_ptr<Call> call = calls_.take(id);
  if (call == nullptr) return;
  if (call->timer != 0) platform_.scheduler->clearTimer(call->timer);
  if (call->inTransport) platform_.transport->abort(call->transportHandle);
  if (call->done) call->done({errorCode, std::move(response)});
}

// ---------------------------------------------------------------- CSRF

void Session::fetchCsrf() {
  csrfFetching_ = true;
  csrfFetchGeneration_ = generation_;
  const uint64_t epoch = ++csrfEpoch_;
  log(LogLevel::Info, "[CSRF] Fetching fresh token for new session");
  HttpRequest request;
  request.method = "GET";
  request.url = resolveTarget(config_.apiBase, config_.apiOrigin, config_.csrfPath).url;
  addNoCacheHeaders(&request.headers);
  request.timeoutMs = 0;  // the core's own timer is the bound (see interfaces.h)
  request.maxResponseBytes = config_.maxAuthResponseBytes;
  csrfTimer_ = platform_.scheduler->setTimer(config_.requestTimeoutMs, guarded([this, epoch]() {
    if (epoch != csrfEpoch_ || !csrfFetching_) return;
    csrfTimer_ = 0;
    platform_.transport->abort(csrfHandle_);
    csrfFetching_ = false;
    failCsrfWaiters(code::kTimeout);
  }));
  Liveness::Watch alive = alive_.watch();
  const uint64_t handle = platform_.transport->send(request, [this, alive, epoch](const HttpResponse& response) {
    if (alive) onCsrfResponse(epoch, response);
  });
  if (csrfFetching_ && epoch == csrfEpoch_) csrfHandle_ = handle;
}

void Session::onCsrfResponse(uint64_t epoch, const HttpResponse& response) {
  if (epoch != csrfEpoch_ || !csrfFetching_) return;  // reset while in flight: dropped
  csrfFetching_ = false;
  platform_.scheduler->clearTimer(csrfTimer_);
  csrfTimer_ = 0;
  if (response.error != TransportError::None) {
    failCsrfWaiters(transportCode(response.error, true));
    return;
  }
  std::string token;
  if (response.status != 200 || response.body.size() > config_.maxAuthResponseBytes ||
      !parsedString(response.body, "csrf_token", &token) || !isHeaderValue(token)) {
    failCsrfWaiters(response.status >= 200 && response.status < 300 ? code::kBadResponse : code::kCsrfUnavailable);
    return;
  }
  std::vector<uint64_t> waiters;
  waiters.swap(csrfWaiters_);
  if (csrfFetchGeneration_ != generation_) {
    // Fetched for a session that has ended: never used. Waiters of the new
    // session ask again; the old session's end on their generation check.
    for (uint64_t id : waiters) advance(id);
    return;
  }
  csrfToken_ = token;
  csrfGeneration_ = generation_;
  for (uint64_t id : waiters) advance(id);
}

void Session::failCsrfWaiters(const char* errorCode) {
  std::vector<uint64_t> waiters;
  waiters.swap(csrfWaiters_);
  for (uint64_t id : waiters) settle(id, errorCode);
}

// ---------------------------------------------------------------- refresh

void Session::onUnauthorized(uint64_t id, HttpResponse response) {
  Call& call = *calls_.find(id);
  call.replayed = true;
  const std::string current = heldAccess();
  if (!current.empty() && current != call.accessUsed) {
    advance(id);  // another refresh already replaced the token: replay with it
    return;
  }
  if (heldRefresh().empty()) {
    settle(id, "", std::move(response));
    return;
  }
  const std::string seen = call.accessUsed;
  refreshWaiters_.push_back({id, std::move(response)});
  startRefresh(seen);
}

void Session::startRefresh(const std::string& seenAccess) {
  if (refreshInFlight_) return;
  if (heldRefresh().empty()) return;
  refreshInFlight_ = true;
  refreshAttempt_ = 0;
  cancelProactiveRefresh();
  const uint64_t epoch = ++refreshEpoch_;
  releaseRefreshLock();  // a lock still held a moment after the last refresh
  if (platform_.lock == nullptr) {
    onRefreshLocked(epoch, seenAccess, nullptr);
    return;
  }
  // The wait for the cross-tab lock is bounded like any request.
  refreshLockTimer_ = platform_.scheduler->setTimer(config_.requestTimeoutMs, guarded([this, epoch]() {
    refreshLockTimer_ = 0;
    if (epoch != refreshEpoch_ || !refreshInFlight_ || refreshCall_ != 0) return;
    RequestOutcome timedOut;
    timedOut.code = code::kTimeout;
    onRefreshDone(generation_, timedOut);
  }));
  Liveness::Watch alive = alive_.watch();
  platform_.lock->acquire("cleanslate-refresh:" + config_.apiBase, config_.requestTimeoutMs + 1000.0,
                          [this, alive, epoch, seenAccess](TabLock::Release release) {
                            if (!alive) {
                              release();
                              return;
                            }
                            onRefreshLocked(epoch, seenAccess, std::move(release));
                          });
}

void Session::onRefreshLocked(uint64_t epoch, const std::string& seenAccess, TabLock::Release release) {
  if (epoch != refreshEpoch_ || !refreshInFlight_ || disposed_) {
    if (release) release();  // this refresh was given up while waiting
    return;
  }
  if (refreshLockTimer_ != 0) platform_.scheduler->clearTimer(refreshLockTimer_);
  refreshLockTimer_ = 0;
  refreshLockRelease_ = std::move(release);
  decideRefresh(epoch, seenAccess, kStoragePolls);
}

void Session::decideRefresh(uint64_t epoch, const std::string& seenAccess, int pollsLeft) {
  if (epoch != refreshEpoch_ || !refreshInFlight_ || disposed_) return;
  // Another tab announced a rotation this tab's view of storage does not
  // show yet: refreshing with the old token now would trip reuse detection.
  if (!rotatedFingerprint_.empty() && fingerprint(heldRefresh()) != rotatedFingerprint_ && pollsLeft > 0) {
    platform_.scheduler->setTimer(kStoragePollMs, guarded([this, epoch, seenAccess, pollsLeft]() {
      decideRefresh(epoch, seenAccess, pollsLeft - 1);
    }));
    return;
  }
  rotatedFingerprint_.clear();
  // Under the lock, storage is the truth: another tab may have rotated the
  // tokens while this one waited, or ended the session.
  const std::string access = heldAccess();
  const std::string refreshToken = heldRefresh();
  if (refreshToken.empty()) {
    releaseRefreshLock();
    refreshInFlight_ = false;
    answerRefreshWaiters(std::move(refreshWaiters_), code::kSessionChanged);
    if (active_) endSession("remote", false, nullptr);
    return;
  }
  if (!access.empty() && access != seenAccess) {
    releaseRefreshLock();
    refreshInFlight_ = false;
    scheduleProactiveRefresh();
    answerRefreshWaiters(std::move(refreshWaiters_), nullptr);  // replay with the other tab's token
    return;
  }
  sendRefresh(refreshToken);
}

void Session::sendRefresh(const std::string& refreshToken) {
  RequestOptions options;
  options.body = refreshBody(refreshToken);
  options.hasBody = true;
  options.contentType = "application/json";
  const uint64_t generation = generation_;
  refreshCall_ = startCall(Kind::Refresh, "POST", config_.refreshPath, std::move(options), true,
                           [this, generation](const RequestOutcome& outcome) { onRefreshDone(generation, outcome); });
}

double Session::refreshRetryDelayMs(const HttpResponse& response) {
  // Retry-After in seconds is honoured up to the cap; otherwise exponential
  // backoff with full jitter from a small generator seeded by the clock.
  std::string lower = response.rawHeaders;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto at = lower.find("retry-after:");
  if (at != std::string::npos) {
    std::size_t i = at + 12;
    while (i < lower.size() && lower[i] == ' ') ++i;
    double seconds = 0;
    bool digits = false;
    while (i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i])) != 0 && seconds < 1e6) {
      seconds = seconds * 10 + (lower[i++] - '0');
      digits = true;
    }
    if (digits) return std::min(seconds * 1000.0, kMaxRetryAfterMs);
  }
  jitterState_ ^= static_cast<uint64_t>(platform_.scheduler->nowMs()) + 0x9E3779B97F4A7C15ULL;
  jitterState_ ^= jitterState_ << 13;
  jitterState_ ^= jitterState_ >> 7;
  jitterState_ ^= jitterState_ << 17;
  const double base = kRefreshBackoffBaseMs * std::pow(2.0, refreshAttempt_ - 1);
  const double jitter = static_cast<double>(jitterState_ % 1000) / 1000.0;
  return std::min(base / 2 + jitter * base / 2, kMaxRetryAfterMs);
}

void Session::releaseRefreshLock() {
  if (refreshLockTimer_ != 0) platform_.scheduler->clearTimer(refreshLockTimer_);
  refreshLockTimer_ = 0;
  if (lockReleaseTimer_ != 0) platform_.scheduler->clearTimer(lockReleaseTimer_);
  lockReleaseTimer_ = 0;
  if (!refreshLockRelease_) return;
  TabLock::Release release = std::move(refreshLockRelease_);
  refreshLockRelease_ = nullptr;
  release();
}

std::string Session::tokenFields(const std::string& access, const std::string& refresh) const {
  // The fingerprint names the session: with shared storage the other tabs
  // read the tokens themselves and know from it when they see the right ones,
  // and a tab that logs out before it has seen them names the session with
  // it. Tokens cross only a channel that does not pass through storage, and
  // only when storage is not shared.
  const std::string fp = fingerprint(refresh);
  std::string fields = "\"fp\":\"" + fp + "\"";
  // How long they have left, so the other tabs schedule their refresh from
  // this tab's measurement rather than from `exp` and their own clock.
  if (const auto left = schedule_.remainingMs(fp, platform_.scheduler->monotonicMs())) {
    fields += ",\"ttl\":" + decimal(static_cast<long long>(std::max(0.0, *left)));
  }
  if (!sharedStorage() && platform_.channel != nullptr && platform_.channel->mayCarrySecrets()) {
    fields += ",\"access_token\":" + jsonString(access) + ",\"refresh_token\":" + jsonString(refresh);
  }
  return fields;
}

bool Session::sharedStorage() const { return config_.storage == StorageMode::Local && !tokens_.inMemoryFallback(); }

void Session::postToTabs(const char* type, const std::string& extraJsonFields) {
  if (platform_.channel == nullptr) return;
  std::string message = std::string("{\"type\":\"") + type + "\"";
  if (!extraJsonFields.empty()) message += "," + extraJsonFields;
  message += "}";
  platform_.channel->post(message);
}

void Session::onTabMessage(const std::string& messageJson) {
  if (disposed_) return;
  JsonObject message;
  std::string type;
  if (!message.parse(messageJson) || !message.string("type", &type)) return;
  log(LogLevel::Debug, "[Auth] Message from another tab: " + type.substr(0, 16));
  std::string access;
  std::string refresh;
  const bool carriesTokens = message.string("access_token", &access) && message.string("refresh_token", &refresh) &&
                             isHeaderValue(access);
  if (type == "logout") {
    // A tab that logged out before it saw this tab's tokens names them by
    // fingerprint; the tab that wrote them revokes them, exactly once.
    std::string revoke;
    const std::string handedOver =
        message.string("revoke", &revoke) && !ownRefresh_.empty() && fingerprint(ownRefresh_) == revoke
            ? ownRefresh_
            : std::string();
    ++joinEpoch_;  // a login of another tab this tab has not joined yet is off
    joinFp_.clear();
    if (active_) endSession("remote", false, nullptr);
    ownRefresh_.clear();
    if (!handedOver.empty() && !disposed_) {
      log(LogLevel::Debug, "[Auth] Telling the backend about another tab's logout");
      notifyBackend(handedOver, nullptr);
    }
  } else if (type == "login") {
    std::string user;
    if (!message.object("user", &user)) return;
    ++loginSeq_;  // a login of this tab still in flight is superseded
    if (loginCall_ != 0) settle(loginCall_, code::kSuperseded);
    beginGeneration();
    active_ = false;
    ownRefresh_.clear();  // the other tab's session replaces this tab's own
    if (carriesTokens && !sharedStorage()) tokens_.store(access, refresh, user);
    std::string fp;
    message.string("fp", &fp);
    joinFp_ = fp;
    schedule_.clear();
    if (const auto ttl = numberMember(message, "ttl")) schedule_.adopted(fp, platform_.scheduler->monotonicMs(), *ttl);
    joinRemoteLogin(++joinEpoch_, user, fp, kStoragePolls);
  } else if (type == "refresh") {
    if (!active_) return;
    if (carriesTokens && !sharedStorage()) tokens_.rotate(access, refresh);
    std::string fp;
    if (message.string("fp", &fp)) {
      if (sharedStorage()) rotatedFingerprint_ = fp;
      if (const auto ttl = numberMember(message, "ttl")) schedule_.adopted(fp, platform_.scheduler->monotonicMs(), *ttl);
    }
    if (!refreshInFlight_) scheduleProactiveRefresh();
  }
}

void Session::joinRemoteLogin(uint64_t epoch, const std::string& user, const std::string& fp, int pollsLeft) {
  if (epoch != joinEpoch_ || disposed_) return;  // a newer login or a logout came meanwhile
  const std::string refreshToken = tokens_.refresh();
  const bool visible = tokens_.hasTokens() && (fp.empty() || fingerprint(refreshToken) == fp);
  if (!visible) {
    // Storage written by another tab can show up here a moment after its message.
    if (pollsLeft <= 0) {
      log(LogLevel::Debug, "[Auth] Login in another tab left no tokens to join");
      return;
    }
    platform_.scheduler->setTimer(kStoragePollMs, guarded([this, epoch, user, fp, pollsLeft]() {
      joinRemoteLogin(epoch, user, fp, pollsLeft - 1);
    }));
    return;
  }
  active_ = true;
  joinFp_.clear();
  rotatedFingerprint_.clear();
  log(LogLevel::Info, "[Auth] Logged in from another tab");
  scheduleProactiveRefresh();
  emit("auth:login", "\"user\":" + user);
}

void Session::onRefreshDone(uint64_t generation, const RequestOutcome& outcome) {
  if (generation != generation_ || disposed_) return;  // the session it belonged to has ended
  refreshCall_ = 0;
  const int throttled = outcome.response.status;
  if (outcome.code.empty() && (throttled == 429 || throttled == 503) && refreshAttempt_ < kMaxRefreshRetries) {
    // Throttled: the refresh stays in flight (and the lock held) and is sent
    // again after a bounded, jittered pause. The waiters' own deadlines still run.
    ++refreshAttempt_;
    const double delay = refreshRetryDelayMs(outcome.response);
    log(LogLevel::Warn, "[Auth] Refresh throttled (HTTP " + decimal(throttled) + "), retrying in " +
                            decimal(static_cast<long long>(delay)) + " ms");
    refreshRetryTimer_ = platform_.scheduler->setTimer(delay, guarded([this, generation]() {
      refreshRetryTimer_ = 0;
      if (generation != generation_ || !refreshInFlight_) return;
      const std::string refreshToken = heldRefresh();
      if (refreshToken.empty()) {
        RequestOutcome ended;
        ended.code = code::kSessionChanged;
        onRefreshDone(generation, ended);
        return;
      }
      sendRefresh(refreshToken);
    }));
    return;
  }
  refreshInFlight_ = false;
  std::vector<RefreshWaiter> waiters = std::move(refreshWaiters_);  // leaves refreshWaiters_ empty
  const int status = outcome.response.status;
  if (outcome.code.empty() && status >= 200 && status < 300) {
    JsonObject body;
    std::string access;
    std::string refresh;
    if (outcome.response.body.size() <= config_.maxAuthResponseBytes && body.parse(outcome.response.body) &&
        body.string("access_token", &access) && body.string("refresh_token", &refresh) && isHeaderValue(access)) {
      tokens_.rotate(access, refresh);
      ownRefresh_ = refresh;
      schedule_.received(fingerprint(refresh), platform_.scheduler->monotonicMs(), receivedLifetimeSec(body, access));
      postToTabs("refresh", tokenFields(access, refresh));
      if (sharedStorage() && refreshLockRelease_) {
        // Hold the lock a moment longer so the write reaches the other tabs'
        // view of storage before one of them can act on it.
        lockReleaseTimer_ = platform_.scheduler->setTimer(50, guarded([this]() {
          lockReleaseTimer_ = 0;
          releaseRefreshLock();
        }));
      } else {
        releaseRefreshLock();
      }
      proactiveBackoffMs_ = 0;
      log(LogLevel::Info, "[Auth] Token refreshed");
      emit("auth:refresh", "");
      scheduleProactiveRefresh();
      answerRefreshWaiters(std::move(waiters), nullptr);
      return;
    }
    releaseRefreshLock();
    answerRefreshWaiters(std::move(waiters), code::kBadResponse);
  } else if (outcome.code.empty() && (status == 400 || status == 401 || status == 403)) {
    answerRefreshWaiters(std::move(waiters), code::kSessionExpired);
    log(LogLevel::Warn, "[Auth] Refresh refused (HTTP " + decimal(status) + "), session expired");
    endSession("expired", false, nullptr);
    return;
  } else {
    releaseRefreshLock();
    answerRefreshWaiters(std::move(waiters), outcome.code.c_str());  // 5xx: the callers see their own 401
  }
  // The session survives a failed refresh; try again later, backing off.
  proactiveBackoffMs_ = std::min(kMaxProactiveBackoffMs, std::max(kFirstProactiveRetryMs, proactiveBackoffMs_ * 2));
  log(LogLevel::Warn, "[Auth] Token refresh failed (" +
                          (outcome.code.empty() ? "HTTP " + decimal(status) : outcome.code) +
                          "), keeping the session");
  if (!heldRefresh().empty() && jwtExpiry(heldAccess())) {
    proactiveTimer_ = platform_.scheduler->setTimer(proactiveBackoffMs_, guarded([this]() {
      proactiveTimer_ = 0;
      startRefresh(heldAccess());
    }));
  }
}

void Session::answerRefreshWaiters(std::vector<RefreshWaiter> waiters, const char* errorCode) {
  for (auto& waiter : waiters) {
    if (errorCode == nullptr) {
      advance(waiter.id);
    } else if (*errorCode == '\0') {
      settle(waiter.id, "", std::move(waiter.original));
    } else {
      settle(waiter.id, errorCode);
    }
  }
}

void Session::scheduleProactiveRefresh() {
  cancelProactiveRefresh();
  if (disposed_) return;
  const std::string access = heldAccess();
  const std::string refresh = heldRefresh();
  if (access.empty() || refresh.empty()) return;
  const std::string fp = fingerprint(refresh);
  const auto exp = jwtExpiry(access);
  const auto delay =
      schedule_.delayMs(fp, platform_.scheduler->monotonicMs(), platform_.scheduler->nowMs(),
                        exp ? std::optional<double>(*exp * 1000.0) : std::nullopt, config_.refreshLeewaySec * 1000.0);
  if (!delay) return;  // opaque, or no way to tell: reactive refresh only
  const bool due = *delay <= kMaxTimerMs;
  proactiveTimer_ = platform_.scheduler->setTimer(std::min(*delay, kMaxTimerMs), guarded([this, due, fp]() {
    proactiveTimer_ = 0;
    // Tokens another tab rotated meanwhile get their own schedule.
    if (due && fingerprint(heldRefresh()) == fp) {
      startRefresh(heldAccess());
    } else {
      scheduleProactiveRefresh();
    }
  }));
}

void Session::cancelProactiveRefresh() {
  if (proactiveTimer_ != 0) platform_.scheduler->clearTimer(proactiveTimer_);
  proactiveTimer_ = 0;
}

// ---------------------------------------------------------------- login, logout

void Session::login(const std::string& email, const std::string& password, LoginCallback done) {
  if (disposed_) {
    done({false, "", "The session was disposed", code::kDisposed});
    return;
  }
  if (email.empty() || password.empty()) {
    done({false, "", "Email and password are required", code::kInvalidArgument});
    return;
  }
  log(LogLevel::Info, "[Auth] Attempting login for: " + email);
  if (loginCall_ != 0) {
    settle(loginCall_, code::kSuperseded);  // the newest login wins
  }
  const uint64_t seq = ++loginSeq_;
  dropCsrfToken();  // a login starts a new session: its CSRF token is fetched fresh

  RequestOptions options;
  options.body = "{\"email\":" + jsonString(email) + ",\"password\":" + jsonString(password) + "}";
  options.hasBody = true;
  options.contentType = "application/json";
  loginCall_ = startCall(Kind::Login, "POST", config_.loginPath, std::move(options), true,
                         [this, seq, done = std::move(done)](const RequestOutcome& outcome) { onLoginDone(seq, outcome, done); });
}

void Session::onLoginDone(uint64_t seq, const RequestOutcome& outcome, const LoginCallback& done) {
  if (seq == loginSeq_) loginCall_ = 0;
  // Every failure is answered by the one call below the checks.
  LoginOutcome failed;
  const HttpResponse& response = outcome.response;
  const int status = response.status;
  JsonObject body;
  std::string access;
  std::string refresh;
  std::string user;
  if (!outcome.code.empty()) {
    failed.code = outcome.code;
    if (outcome.code == code::kSuperseded) {
      failed.error = "A newer login replaced this one";
    } else if (outcome.code == code::kSessionChanged) {
      failed.error = "The session changed while logging in";
    } else {
      failed.error = "Login failed: " + outcome.code;
    }
  } else if (seq != loginSeq_ || disposed_) {
    failed.code = code::kSessionChanged;
    failed.error = "The session changed while logging in";
  } else if (status == 401) {
    failed.code = code::kInvalidCredentials;
    failed.error = errorDetail(response, "Invalid credentials");
  } else if (status == 429) {
    failed.code = code::kRateLimited;
    failed.error = errorDetail(response, "Too many attempts");
  } else if (status >= 500) {
    failed.code = code::kServerError;
    failed.error = "Server error (HTTP " + decimal(status) + ")";
  } else if (status < 200 || status >= 300) {
    failed.code = code::kHttpError;
    failed.error = errorDetail(response, "Login failed (HTTP " + decimal(status) + ")");
  } else if (response.body.size() > config_.maxAuthResponseBytes || !body.parse(response.body) ||
             !body.string("access_token", &access) || !body.string("refresh_token", &refresh) ||
             !isHeaderValue(access) || !body.object("user", &user)) {
    failed.code = code::kBadResponse;
    failed.error = "The server's login response was not understood";
  }
  if (!failed.code.empty()) {
    done(failed);
    return;
  }
  log(LogLevel::Info, "[Auth] Login successful, storing tokens");
  // The CSRF token fetched for this login belongs to the session it starts.
  const bool carryCsrf = !csrfToken_.empty() && csrfGeneration_ == generation_;
  ++joinEpoch_;  // this tab's own login wins over one it was about to join
  joinFp_.clear();
  beginGeneration();  // whatever the previous session left in flight ends here
  if (carryCsrf) csrfGeneration_ = generation_;
  tokens_.store(access, refresh, user);
  ownRefresh_ = refresh;
  schedule_.received(fingerprint(refresh), platform_.scheduler->monotonicMs(), receivedLifetimeSec(body, access));
  active_ = true;
  const std::string carried = tokenFields(access, refresh);
  postToTabs("login", "\"user\":" + user + (carried.empty() ? "" : "," + carried));
  proactiveBackoffMs_ = 0;
  scheduleProactiveRefresh();
  emit("auth:login", "\"user\":" + user);
  done({true, user, "", ""});
}

void Session::logout(LogoutCallback done) {
  if (disposed_) {
    done({false});
    return;
  }
  endSession("user", true, std::move(done));
}

void Session::endSession(const char* reason, bool notifyBackend, LogoutCallback done) {
  const std::string why = reason;
  log(LogLevel::Info, why == "user"     ? "[Auth] Logging out"
                      : why == "remote" ? "[Auth] Logged out in another tab"
                                        : "[Auth] Session expired, logging out");
  std::string refreshToken = heldRefresh();
  // Another tab's login that this tab has not joined yet is a session all the
  // same: revoke its token when storage already shows it here, else name it
  // so that the tab that wrote it does (whatever timers a hidden tab runs).
  std::string handOver;
  if (refreshToken.empty() && !joinFp_.empty()) {
    const std::string shown = tokens_.refresh();
    if (!shown.empty() && fingerprint(shown) == joinFp_) {
      refreshToken = shown;
    } else {
      handOver = joinFp_;
    }
  }
  joinFp_.clear();
  ownRefresh_.clear();
  schedule_.clear();
  active_ = false;
  ++joinEpoch_;
  ++loginSeq_;  // a login still in flight must not resurrect a session
  resetCsrfToken();
  resetApiState();
  log(LogLevel::Info, "[Auth] API state reset complete");
  // Shared storage was cleared by the tab that logged out; clearing it again
  // here could wipe a session that tab has started since.
  if (why != "remote" || !sharedStorage()) tokens_.clear();
  log(LogLevel::Info, "[Auth] Tokens cleared from " + storageName());
  if (why != "remote") {
    const bool askHolder = notifyBackend && !handOver.empty();
    postToTabs("logout", "\"reason\":\"" + why + "\"" + (askHolder ? ",\"revoke\":\"" + handOver + "\"" : ""));
    if (askHolder) log(LogLevel::Debug, "[Auth] The tab that holds the session tells the backend");
  }
  emit("auth:logout", "\"reason\":\"" + why + "\"");
  if (disposed_) {  // a listener disposed the session
    if (done) done({false});
    return;
  }
  if (notifyBackend && !refreshToken.empty()) {
    this->notifyBackend(refreshToken, std::move(done));
  } else if (done) {
    done({false});
  }
}

void Session::notifyBackend(const std::string& refreshToken, LogoutCallback done) {
  const uint64_t id = nextId_++;
  LogoutNotice& notice = notices_.emplace(id);
  notice.done = std::move(done);
  notice.timer = platform_.scheduler->setTimer(config_.logoutTimeoutMs, guarded([this, id]() {
    LogoutNotice* found = notices_.find(id);
    if (found == nullptr) return;
    found->timer = 0;
    finishNotice(id, false, "timed out after " + decimal(config_.logoutTimeoutMs) + " ms");
  }));

  // Step 2: POST logout with a CSRF token fetched for this notice alone (the
  // session's own token was dropped with the session).
  auto postLogout = [this, id, refreshToken](const std::string& csrf) {
    HttpRequest request;
    request.method = "POST";
    request.url = resolveTarget(config_.apiBase, config_.apiOrigin, config_.logoutPath).url;
    addNoCacheHeaders(&request.headers);
    request.headers.emplace_back("Content-Type", "application/json");
    request.headers.emplace_back(config_.csrfHeader, csrf);
    request.body = refreshBody(refreshToken);
    request.hasBody = true;
    request.timeoutMs = 0;
    request.maxResponseBytes = config_.maxAuthResponseBytes;
    notices_.find(id)->inTransport = true;  // called only from the CSRF answer, with the notice held
    Liveness::Watch alive = alive_.watch();
    const uint64_t handle = platform_.transport->send(request, [this, alive, id](HttpResponse response) {
      if (!alive) return;
      LogoutNotice* found = notices_.find(id);
      if (found == nullptr) return;
      found->inTransport = false;
      if (response.error != TransportError::None) {
        finishNotice(id, false, noticeFailure(response.error));
      } else if (response.status < 200 || response.status >= 300) {
        finishNotice(id, false, "HTTP " + decimal(response.status));
      } else {
        finishNotice(id, true, "");
      }
    });
    LogoutNotice* sent = notices_.find(id);
    if (sent != nullptr && sent->inTransport) sent->handle = handle;
  };

  HttpRequest csrfRequest;
  csrfRequest.method = "GET";
  csrfRequest.url = resolveTarget(config_.apiBase, config_.apiOrigin, config_.csrfPath).url;
  addNoCacheHeaders(&csrfRequest.headers);
  csrfRequest.timeoutMs = 0;
  csrfRequest.maxResponseBytes = config_.maxAuthResponseBytes;
  notice.inTransport = true;
  Liveness::Watch alive = alive_.watch();
  const uint64_t handle = platform_.transport->send(csrfRequest, [this, alive, id, postLogout](HttpResponse response) {
    if (!alive) return;
    LogoutNotice* found = notices_.find(id);
    if (found == nullptr) return;
    found->inTransport = false;
    std::string csrf;
    if (response.error != TransportError::None) {
      finishNotice(id, false, noticeFailure(response.error));
    } else if (response.status != 200 || !parsedString(response.body, "csrf_token", &csrf) ||
               !isHeaderValue(csrf)) {
      finishNotice(id, false, "CSRF token unavailable (HTTP " + decimal(response.status) + ")");
    } else {
      postLogout(csrf);
    }
  });
  LogoutNotice* sent = notices_.find(id);
  if (sent != nullptr && sent->inTransport) sent->handle = handle;
}

void Session::finishNotice(uint64_t id, bool ok, const std::string& reason) {
  const std::unique_ptr<LogoutNotice> notice = notices_.take(id);
  if (notice == nullptr) return;
  if (notice->timer != 0) platform_.scheduler->clearTimer(notice->timer);
  if (notice->inTransport) platform_.transport->abort(notice->handle);
  if (!disposed_) {
    if (ok) {
      log(LogLevel::Info, "[Auth] Backend logout notification successful");
    } else {
      log(LogLevel::Warn, "[Auth] Backend notification failed (non-critical): " + reason);
    }
  }
  if (notice->done) notice->done({ok});
}

}  // namespace cleanslate
