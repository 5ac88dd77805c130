// The backend logout notification (see logout_notice.h).
#include "logout_notice.h"

#include <memory>
#include <utility>

#include "json.h"
#include "wire.h"

namespace cleanslate {
namespace {

const char* failure(TransportError error) {
  if (error == TransportError::TooLarge) return "response too large";
  return error == TransportError::Timeout ? "timeout" : "network error";
}

}  // namespace

LogoutNotices::LogoutNotices(const Config& config, Transport& transport, Scheduler& scheduler, const Log& log,
                             const Liveness& alive)
    : config_(config), transport_(transport), scheduler_(scheduler), log_(log), alive_(alive) {}

void LogoutNotices::send(const std::string& refreshToken, LogoutCallback done) {
  const uint64_t id = nextId_++;
  Notice& notice = notices_.emplace(id, scheduler_, std::move(done), refreshToken);
  notice.deadline.arm(config_.logoutTimeoutMs, [this, id]() {
    finish(id, false, withDecimal("timed out after ", config_.logoutTimeoutMs, " ms"));
  });
  transmit(id, authRequest(config_, "GET", config_.csrfPath), [this, id](const HttpResponse& response) {
    std::string csrf;
    if (response.status != 200 || !parsedString(response.body, "csrf_token", &csrf) || !isHeaderValue(csrf)) {
      return finish(id, false, withDecimal("CSRF token unavailable (HTTP ", response.status, ")"));
    }
    postLogout(id, csrf);
  });
}

void LogoutNotices::postLogout(uint64_t id, const std::string& csrf) {
  HttpRequest request = authRequest(config_, "POST", config_.logoutPath);
  addHeader(&request.headers, "Content-Type", "application/json");
  addHeader(&request.headers, config_.csrfHeader, csrf);
  request.body = refreshBody(notices_.find(id)->refreshToken);  // called with the notice held
  request.hasBody = true;
  transmit(id, request, [this, id](const HttpResponse& response) {
    if (response.status < 200 || response.status >= 300) {
      return finish(id, false, withDecimal("HTTP ", response.status));
    }
    finish(id, true, {});
  });
}

void LogoutNotices::transmit(uint64_t id, const HttpRequest& request, Answer answer) {
  notices_.find(id)->inTransport = true;  // called with the notice held
  const uint64_t handle = transport_.send(
      request, [this, alive = alive_.watch(), id, answer = std::move(answer)](const HttpResponse& response) {
        if (!alive) return;
        Notice* notice = notices_.find(id);
        if (notice == nullptr) return;
        notice->inTransport = false;
        if (response.error != TransportError::None) return finish(id, false, failure(response.error));
        answer(response);
      });
  Notice* sent = notices_.find(id);  // the transport may have answered synchronously
  if (sent != nullptr && sent->inTransport) sent->handle = handle;
}

void LogoutNotices::finish(uint64_t id, bool ok, const std::string& reason) {
  const std::unique_ptr<Notice> notice = notices_.take(id);
  if (notice == nullptr) return;
  notice->deadline.cancel();
  if (notice->inTransport) transport_.abort(notice->handle);
  if (!disposed_) {
    if (ok) {
      log_(LogLevel::Info, "[Auth] Backend logout notification successful");
    } else {
      log_(LogLevel::Warn, "[Auth] Backend notification failed (non-critical): " + reason);
    }
  }
  notice->done({ok});
}

void LogoutNotices::dispose() {
  disposed_ = true;
  // No notice starts once disposed: the lowest id until none is left.
  while (const uint64_t id = notices_.firstId()) finish(id, false, {});
}

}  // namespace cleanslate
