// The refresh coordinator (see refresh_coordinator.h).
#include "refresh_coordinator.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "jwt.h"
#include "url.h"

namespace cleanslate {
namespace {

constexpr double kMaxTimerMs = 24.0 * 24 * 3600 * 1000;  // below setTimeout's 2^31-1 ms limit
constexpr double kMaxProactiveBackoffMs = 60000;
constexpr double kFirstProactiveRetryMs = 5000;  // after a failed refresh, then doubling
constexpr int kMaxRefreshRetries = 3;            // for 429/503 answers to a refresh
constexpr double kRefreshBackoffBaseMs = 500;    // doubled per attempt, with jitter
constexpr double kMaxRetryAfterMs = 10000;       // cap on Retry-After and on the backoff
constexpr double kLockHoldMs = 50;

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

}  // namespace

RefreshCoordinator::RefreshCoordinator(const Config& config, Scheduler& scheduler, TabLock* lock,
                                       Credentials& credentials, const Log& log, const uint64_t& generation,
                                       const Liveness& alive, Delegate& delegate)
    : config_(config),
      scheduler_(scheduler),
      lock_(lock),
      credentials_(credentials),
      log_(log),
      generation_(generation),
      delegate_(delegate),
      lockDeadline_(scheduler),
      lockHold_(scheduler),
      retry_(scheduler),
      poll_(scheduler),
      proactive_(scheduler),
      alive_(alive) {}

// ---------------------------------------------------------------- schedule

void RefreshCoordinator::received(const std::string& refresh, const JsonObject& body, const std::string& access) {
  schedule_.received(fingerprint(refresh), scheduler_.monotonicMs(), receivedLifetimeSec(body, access));
}

void RefreshCoordinator::adopted(const std::string& fp, std::optional<double> ttlMs) {
  schedule_.clear();
  if (ttlMs) schedule_.adopted(fp, scheduler_.monotonicMs(), *ttlMs);
}

void RefreshCoordinator::rotatedElsewhere(const std::string* fp, std::optional<double> ttlMs) {
  if (fp != nullptr) {
    if (credentials_.shared()) rotatedFp_ = *fp;
    if (ttlMs) schedule_.adopted(*fp, scheduler_.monotonicMs(), *ttlMs);
  }
  if (!inFlight_) schedule();
}

std::optional<double> RefreshCoordinator::remainingMs(const std::string& fp) const {
  return schedule_.remainingMs(fp, scheduler_.monotonicMs());
}

void RefreshCoordinator::schedule() {
  proactive_.cancel();
  if (disposed_) return;
  const std::string access = credentials_.heldAccess();
  const std::string refresh = credentials_.heldRefresh();
  if (access.empty() || refresh.empty()) return;
  proactiveFp_ = fingerprint(refresh);
  const auto exp = jwtExpiry(access);
  const auto delay =
      schedule_.delayMs(proactiveFp_, scheduler_.monotonicMs(), scheduler_.nowMs(),
                        exp ? std::optional<double>(*exp * 1000.0) : std::nullopt, config_.refreshLeewaySec * 1000.0);
  if (!delay) return;  // opaque, or no way to tell: reactive refresh only
  const bool due = *delay <= kMaxTimerMs;
  proactive_.arm(std::min(*delay, kMaxTimerMs), [this, due]() {
    // Tokens another tab rotated meanwhile get their own schedule.
    if (due && fingerprint(credentials_.heldRefresh()) == proactiveFp_) {
      start(credentials_.heldAccess());
    } else {
      schedule();
    }
  });
}

// ---------------------------------------------------------------- one refresh

void RefreshCoordinator::wait(uint64_t call, HttpResponse&& original, const std::string& seenAccess) {
  waiters_.push_back({call, std::move(original)});
  start(seenAccess);
}

void RefreshCoordinator::start(const std::string& seenAccess) {
  if (inFlight_ || credentials_.heldRefresh().empty()) return;
  inFlight_ = true;
  seenAccess_ = seenAccess;
  attempt_ = 0;
  proactive_.cancel();
  const uint64_t epoch = ++epoch_;
  releaseLock();  // a lock still held a moment after the last refresh
  if (lock_ == nullptr) return onLocked(epoch, nullptr);
  // The wait for the cross-tab lock is bounded like any request.
  lockDeadline_.arm(config_.requestTimeoutMs, [this]() { fail(generation_, ErrorCode::Timeout); });
  lock_->acquire("cleanslate-refresh:" + config_.apiBase, config_.requestTimeoutMs + 1000.0,
                 [this, alive = alive_.watch(), epoch](TabLock::Release release) {
                   if (!alive) return release();
                   onLocked(epoch, std::move(release));
                 });
}

void RefreshCoordinator::onLocked(uint64_t epoch, TabLock::Release release) {
  if (epoch != epoch_ || !inFlight_ || disposed_) {
    release();  // this refresh was given up while waiting
    return;
  }
  lockDeadline_.cancel();
  lockRelease_ = std::move(release);
  decide(epoch, kStoragePolls);
}

void RefreshCoordinator::decide(uint64_t epoch, int pollsLeft) {
  if (epoch != epoch_ || !inFlight_ || disposed_) return;
  // Another tab announced a rotation this tab's view of storage does not
  // show yet: refreshing with the old token now would trip reuse detection.
  if (!rotatedFp_.empty() && fingerprint(credentials_.heldRefresh()) != rotatedFp_ && pollsLeft > 0) {
    poll_.arm(kStoragePollMs, [this, epoch, pollsLeft]() { decide(epoch, pollsLeft - 1); });
    return;
  }
  rotatedFp_.clear();
  // Under the lock, storage is the truth: another tab may have rotated the
  // tokens while this one waited, or ended the session.
  const std::string access = credentials_.heldAccess();
  const std::string refresh = credentials_.heldRefresh();
  if (refresh.empty()) {  // another tab ended the session
    releaseLock();
    inFlight_ = false;
    delegate_.answerWaiters(std::move(waiters_), {false, ErrorCode::SessionChanged});
    if (credentials_.active) delegate_.endLocally(EndReason::Remote);
    return;
  }
  if (!access.empty() && access != seenAccess_) {  // another tab rotated the tokens
    releaseLock();
    inFlight_ = false;
    schedule();
    delegate_.answerWaiters(std::move(waiters_), {true, std::nullopt});  // replay with its token
    return;
  }
  send(refresh);
}

void RefreshCoordinator::send(const std::string& refreshToken) {
  const uint64_t generation = generation_;
  delegate_.sendRefresh(refreshBody(refreshToken),
                        [this, generation](CallResult&& result) { finish(generation, result); });
}

void RefreshCoordinator::finish(uint64_t generation, const CallResult& result) {
  if (generation != generation_ || disposed_) return;  // the session it belonged to has ended
  const int status = result.response.status;
  const bool answered = !result.error;
  if (answered && (status == 429 || status == 503) && attempt_ < kMaxRefreshRetries) {
    // Throttled: the refresh stays in flight (and the lock held) and is sent
    // again after a bounded, jittered pause. The waiters' own deadlines still run.
    ++attempt_;
    const double delay = retryDelayMs(result.response);
    log_(LogLevel::Warn, withDecimal("[Auth] Refresh throttled (HTTP ", status, "), retrying in ") +
                             decimal(static_cast<long long>(delay)) + " ms");
    retry_.arm(delay, [this, generation]() {
      if (generation != generation_ || !inFlight_) return;
      const std::string refreshToken = credentials_.heldRefresh();
      if (refreshToken.empty()) return fail(generation, ErrorCode::SessionChanged);
      send(refreshToken);
    });
    return;
  }
  inFlight_ = false;
  std::vector<RefreshWaiter> waiters = std::move(waiters_);  // leaves waiters_ empty
  if (answered && (status == 400 || status == 401 || status == 403)) {
    delegate_.answerWaiters(std::move(waiters), {false, ErrorCode::SessionExpired});
    log_(LogLevel::Warn, withDecimal("[Auth] Refresh refused (HTTP ", status, "), session expired"));
    delegate_.endLocally(EndReason::Expired);
    return;
  }
  const bool ok = answered && status >= 200 && status < 300;
  if (ok && adopt(result.response.body)) {
    if (credentials_.shared() && lockRelease_) {
      // Hold the lock a moment longer so the write reaches the other tabs'
      // view of storage before one of them can act on it.
      lockHold_.arm(kLockHoldMs, [this]() { releaseLock(); });
    } else {
      releaseLock();
    }
    backoffMs_ = 0;
    log_(LogLevel::Info, "[Auth] Token refreshed");
    delegate_.refreshed();
    schedule();
    delegate_.answerWaiters(std::move(waiters), {true, std::nullopt});
    return;
  }
  releaseLock();
  // A 2xx not understood is bad_response; after a 5xx the callers see their own 401.
  delegate_.answerWaiters(std::move(waiters), {false, ok ? ErrorCode::BadResponse : result.error});
  // The session survives a failed refresh; try again later, backing off.
  backoffMs_ = std::min(kMaxProactiveBackoffMs, std::max(kFirstProactiveRetryMs, backoffMs_ * 2));
  const std::string why = answered ? withDecimal("HTTP ", status) : codeName(*result.error);
  log_(LogLevel::Warn, "[Auth] Token refresh failed (" + why + "), keeping the session");
  if (!credentials_.heldRefresh().empty() && jwtExpiry(credentials_.heldAccess())) {
    proactive_.arm(backoffMs_, [this]() { start(credentials_.heldAccess()); });
  }
}

void RefreshCoordinator::fail(uint64_t generation, ErrorCode error) { finish(generation, {error, {}}); }

bool RefreshCoordinator::adopt(const std::string& answer) {
  JsonObject body;
  std::string access;
  std::string refresh;
  if (answer.size() > config_.maxAuthResponseBytes || !body.parse(answer) || !body.string("access_token", &access) ||
      !body.string("refresh_token", &refresh) || !isHeaderValue(access)) {
    return false;
  }
  credentials_.tokens.rotate(access, refresh);
  credentials_.ownRefresh = refresh;
  received(refresh, body, access);
  delegate_.announceRefresh(access, refresh);
  return true;
}

double RefreshCoordinator::retryDelayMs(const HttpResponse& response) {
  // Retry-After in seconds is honoured up to the cap; otherwise exponential
  // backoff with full jitter from a small generator seeded by the clock.
  const std::string lower = asciiLower(response.rawHeaders);
  const auto at = lower.find("retry-after:");
  if (at != std::string::npos) {
    const char* p = lower.c_str() + at + 12;  // NUL-terminated: the loops stop at the end
    while (*p == ' ') ++p;
    const char* const digits = p;
    double seconds = 0;
    for (; std::isdigit(static_cast<unsigned char>(*p)) != 0 && seconds < 1e6; ++p) seconds = seconds * 10 + (*p - '0');
    if (p != digits) return std::min(seconds * 1000.0, kMaxRetryAfterMs);
  }
  jitterState_ ^= static_cast<uint64_t>(scheduler_.nowMs()) + 0x9E3779B97F4A7C15ULL;
  jitterState_ ^= jitterState_ << 13;
  jitterState_ ^= jitterState_ >> 7;
  jitterState_ ^= jitterState_ << 17;
  const double base = kRefreshBackoffBaseMs * (1 << (attempt_ - 1));  // attempt_: 1 to kMaxRefreshRetries
  const double jitter = static_cast<double>(jitterState_ % 1000) / 1000.0;
  return std::min(base / 2 + jitter * base / 2, kMaxRetryAfterMs);
}

void RefreshCoordinator::releaseLock() {
  lockDeadline_.cancel();
  lockHold_.cancel();
  if (!lockRelease_) return;
  TabLock::Release release = std::move(lockRelease_);  // leaves lockRelease_ empty
  release();
}

// ---------------------------------------------------------------- lifetime

void RefreshCoordinator::reset() {
  proactive_.cancel();
  inFlight_ = false;
  retry_.cancel();
  releaseLock();
  waiters_.clear();  // the pipeline settles every call of the ended generation
}

void RefreshCoordinator::dispose() {
  disposed_ = true;
  proactive_.cancel();
  retry_.cancel();
  poll_.cancel();
  releaseLock();
  waiters_.clear();
}

}  // namespace cleanslate
