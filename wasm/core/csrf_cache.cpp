// The CSRF token cache (see csrf_cache.h).
#include "csrf_cache.h"

#include <utility>

#include "wire.h"

namespace cleanslate {

CsrfCache::CsrfCache(const Config& config, Transport& transport, Scheduler& scheduler, const Log& log,
                     const uint64_t& generation, const Liveness& alive, Delegate& delegate)
    : config_(config),
      transport_(transport),
      scheduler_(scheduler),
      log_(log),
      generation_(generation),
      delegate_(delegate),
      deadline_(scheduler),
      alive_(alive) {}

void CsrfCache::wait(uint64_t call) {
  waiters_.push_back(call);
  if (!fetching_) fetch();
}

void CsrfCache::rejected(const std::string& used) {
  if (token_ != used) return;
  token_.clear();
  tokenGeneration_ = 0;
}

void CsrfCache::drop() {
  ++epoch_;
  token_.clear();
  tokenGeneration_ = 0;
  stopFetch();
  // Requests that were waiting for the dropped fetch start over on the next
  // turn: by then a logout has also moved the generation on, so they end
  // without touching the network.
  if (!waiters_.empty()) {
    scheduler_.setTimer(0, [this, alive = alive_.watch(), waiters = std::move(waiters_)]() {
      if (!alive) return;
      for (uint64_t id : waiters) delegate_.resume(id, std::nullopt);
    });
    waiters_.clear();
  }
}

void CsrfCache::dispose() {
  stopFetch();
  waiters_.clear();
}

void CsrfCache::stopFetch() {
  if (!fetching_) return;
  transport_.abort(handle_);
  deadline_.cancel();
  fetching_ = false;
}

void CsrfCache::fetch() {
  fetching_ = true;
  fetchGeneration_ = generation_;
  const uint64_t epoch = ++epoch_;
  log_(LogLevel::Info, "[CSRF] Fetching fresh token for new session");
  // Cancelled whenever the fetch stops, so it fires only for this one.
  deadline_.arm(config_.requestTimeoutMs, [this]() {
    stopFetch();
    resumeAll(ErrorCode::Timeout);
  });
  const uint64_t handle = transport_.send(authRequest(config_, "GET", config_.csrfPath),
                                          [this, alive = alive_.watch(), epoch](const HttpResponse& response) {
                                            if (alive) onAnswer(epoch, response);
                                          });
  if (fetching_ && epoch == epoch_) handle_ = handle;  // unless it answered synchronously
}

void CsrfCache::onAnswer(uint64_t epoch, const HttpResponse& response) {
  if (epoch != epoch_ || !fetching_) return;  // dropped while in flight
  fetching_ = false;
  deadline_.cancel();
  if (response.error != TransportError::None) return resumeAll(transportCode(response.error, true));
  std::string token;
  if (response.status != 200 || response.body.size() > config_.maxAuthResponseBytes ||
      !parsedString(response.body, "csrf_token", &token) || !isHeaderValue(token)) {
    return resumeAll(response.status >= 200 && response.status < 300 ? ErrorCode::BadResponse
                                                                     : ErrorCode::CsrfUnavailable);
  }
  // A token fetched for a session that has ended is never used: the new
  // session's waiters ask again, the old session's end on their generation.
  if (fetchGeneration_ == generation_) {
    token_ = token;
    tokenGeneration_ = generation_;
  }
  resumeAll(std::nullopt);
}

void CsrfCache::resumeAll(std::optional<ErrorCode> error) {
  std::vector<uint64_t> waiters;
  waiters.swap(waiters_);
  for (uint64_t id : waiters) delegate_.resume(id, error);
}

}  // namespace cleanslate
