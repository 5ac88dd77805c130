// The best-effort backend notification of a logout: GET a CSRF token of its
// own (the session's was dropped with the session), then POST
// endpoints.logout {refresh_token}, the whole bounded by logoutTimeoutMs.
// Each notice ends exactly once, with one log line unless disposed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "callback.h"
#include "config.h"
#include "id_table.h"
#include "interfaces.h"
#include "liveness.h"
#include "log.h"
#include "scoped_timer.h"

namespace cleanslate {

struct LogoutOutcome {
  bool backendNotified = false;
};
using LogoutCallback = Callback<void(const LogoutOutcome&)>;

class LogoutNotices {
 public:
  LogoutNotices(const Config& config, Transport& transport, Scheduler& scheduler, const Log& log,
                const Liveness& alive);

  void send(const std::string& refreshToken, LogoutCallback done);
  // Ends every notice still under way, without a log line.
  void dispose();

 private:
  struct Notice {
    Notice(Scheduler& scheduler, LogoutCallback&& finished, const std::string& token)
        : deadline(scheduler), done(std::move(finished)), refreshToken(token) {}
    bool inTransport = false;
    uint64_t handle = 0;
    ScopedTimer deadline;
    LogoutCallback done;
    std::string refreshToken;  // the one to revoke
  };
  using Answer = Callback<void(const HttpResponse& response)>;

  void postLogout(uint64_t id, const std::string& csrf);
  // Sends one step of notice `id`; `answer` gets its HTTP response.
  void transmit(uint64_t id, const HttpRequest& request, Answer answer);
  void finish(uint64_t id, bool ok, const std::string& reason);

  const Config& config_;
  Transport& transport_;
  Scheduler& scheduler_;
  const Log& log_;
  bool disposed_ = false;
  uint64_t nextId_ = 1;
  IdMap<Notice> notices_;
  const Liveness& alive_;  // the session's: callbacks that outlive it check it
};

}  // namespace cleanslate
