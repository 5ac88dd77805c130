// The other tabs of the origin: the messages this tab posts (login, refresh,
// logout; see postTokens() for what they may carry), and what it does with
// theirs. Another tab's login is joined once its tokens show in this tab's
// storage; what the front has to do (end this tab's session, fire events)
// it asks through the hooks it is given.
#pragma once

#include <cstdint>
#include <string>

#include "config.h"
#include "credentials.h"
#include "interfaces.h"
#include "liveness.h"
#include "log.h"
#include "refresh_coordinator.h"
#include "scoped_timer.h"

namespace cleanslate {

class TabSync {
 public:
  // What the front does about the other tabs' news.
  class Delegate {
   public:
    // Another tab logged out. `handedOver`: this tab's own refresh token
    // when that tab asked this one to revoke it, else empty.
    virtual void remoteLogout(const std::string& handedOver) = 0;
    // Another tab logged in: this tab's session and any login in flight end.
    virtual void remoteLogin() = 0;
    // That login was joined: auth:login.
    virtual void joined(const std::string& user) = 0;

   protected:
    ~Delegate() = default;
  };

  TabSync(const Config& config, TabChannel* channel, Scheduler& scheduler, const Log& log, Credentials& credentials,
          RefreshCoordinator& refresh, const Liveness& alive, Delegate& delegate);

  void open();
  void close();
  void receive(const std::string& messageJson);
  // Posts {"type":<type>,<fields>}.
  void post(const char* type, const std::string& fields);
  // Posts {"type":<type>,<fields>,<the fields that name the session of these
  // tokens to the other tabs>}; `fields` may be empty.
  void postTokens(const char* type, std::string fields, const std::string& access, const std::string& refresh);

  // The fingerprint of another tab's login not joined yet (empty: none).
  const std::string& joinFp() const { return joinFp_; }
  // Gives up joining another tab's login (this tab's own login or logout wins).
  void cancelJoin();

 private:
  // Joins the login named joinFp_ once storage shows its tokens.
  void join(uint64_t epoch, int pollsLeft);

  const Config& config_;
  TabChannel* channel_;  // optional: no cross-tab messages without it
  const Log& log_;
  Credentials& credentials_;
  RefreshCoordinator& refresh_;
  Delegate& delegate_;

  bool closed_ = false;
  uint64_t joinEpoch_ = 0;  // moves on with every login/logout, cancelling a join still waiting for storage
  std::string joinFp_;
  std::string joinUser_;  // the user of that login
  ScopedTimer joinPoll_;
  const Liveness& alive_;  // the session's: callbacks that outlive it check it
};

}  // namespace cleanslate
