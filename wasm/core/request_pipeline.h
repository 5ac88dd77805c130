// Every HTTP request of the session goes through here: the caller's, the
// login and the refresh. It resolves the target, adds the headers of
// CONTRACT.md §3 (no-cache, Authorization, CSRF), bounds each call with a
// deadline, and on the way back retries once after a 403 csrf_invalid and
// hands a 401 to the refresh coordinator. A call started under one
// generation never settles with an answer that arrived after it ended.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config.h"
#include "credentials.h"
#include "csrf_cache.h"
#include "errors.h"
#include "id_table.h"
#include "interfaces.h"
#include "liveness.h"
#include "refresh_coordinator.h"
#include "scoped_timer.h"
#include "url.h"
#include "wire.h"

namespace cleanslate {

struct RequestOptions {
  std::string body;
  bool hasBody = false;
  std::string contentType;  // used when the caller's headers give none
  Headers headers;
};

class RequestPipeline {
 public:
  RequestPipeline(const Config& config, Transport& transport, Scheduler& scheduler, const uint64_t& generation,
                  const Liveness& alive, Credentials& credentials, CsrfCache& csrf, RefreshCoordinator& refresh);

  // A caller's request: the method and headers are checked first. Returns
  // the call's id for cancel(), or 0 when it was refused (and has settled).
  uint64_t request(const std::string& method, const std::string& target, RequestOptions options, CallDone done);
  // A JSON POST to an auth endpoint (login, refresh): never carries the
  // Authorization header, never refreshed. Returns the call's id.
  uint64_t postAuth(const std::string& path, std::string jsonBody, CallDone done);

  // A request the CSRF cache held: goes on, or settles with `error`.
  void resume(uint64_t id, std::optional<ErrorCode> error);
  void answer(std::vector<RefreshWaiter> waiters, RefreshVerdict verdict);
  // Delivers the call's result, `error` or its answer, and forgets it.
  void settle(uint64_t id, ErrorCode error);
  void settle(uint64_t id, HttpResponse&& response);
  // Settles every call held with `error`.
  void settleAll(ErrorCode error);
  // Drops a caller's request wherever it waits (for a CSRF token, a
  // refresh, the transport or a replay): its transport request is aborted,
  // its deadline cleared, and its `done` never runs. A call that has
  // settled, and the session's own calls (login, refresh), are left alone.
  void cancel(uint64_t id);
  std::size_t size() const { return calls_.size(); }

 private:
  struct Call {
    Call(Scheduler& scheduler, CallDone callDone) : deadline(scheduler), done(std::move(callDone)) {}
    uint64_t generation = 0;
    bool sameOrigin = false;
    bool unsafe = false;
    bool auth = false;  // login or refresh
    bool replayed = false;
    bool csrfRetried = false;
    bool inTransport = false;
    uint64_t attempt = 0;
    uint64_t transportHandle = 0;
    // Built once when the call starts; each attempt replaces the headers
    // after the first `fixedHeaders` with its own Authorization and CSRF.
    HttpRequest request;
    std::size_t fixedHeaders = 0;
    std::string accessUsed;
    std::string csrfUsed;
    ScopedTimer deadline;
    CallDone done;
  };

  uint64_t start(const std::string& method, const ResolvedTarget& resolved, RequestOptions&& options, bool auth,
                 CallDone done);
  void advance(uint64_t id);
  void transmit(uint64_t id);
  void onResponse(uint64_t id, uint64_t attempt, HttpResponse&& response);
  void onUnauthorized(uint64_t id, HttpResponse&& response);
  // The caller's headers the session lets through, the Content-Type, and
  // on apiBase's origin the no-cache headers.
  void addFixedHeaders(const RequestOptions& options, bool sameOrigin, Headers* headers) const;
  // Forgets the call: clears its deadline and aborts its transport request.
  std::unique_ptr<Call> release(uint64_t id);
  void deliver(uint64_t id, CallResult&& result);

  const Config& config_;
  Transport& transport_;
  Scheduler& scheduler_;
  const uint64_t& generation_;
  Credentials& credentials_;
  CsrfCache& csrf_;
  RefreshCoordinator& refresh_;

  uint64_t nextId_ = 1;
  IdMap<Call> calls_;
  const Liveness& alive_;  // the session's: callbacks that outlive it check it
};

}  // namespace cleanslate
