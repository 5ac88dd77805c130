// Refreshes the access token: at most one refresh at a time, shared by every
// 401 that waits for it, serialised across tabs by a TabLock, retried on
// 429/503, and scheduled ahead of the token's expiry (refresh_schedule.h
// does the arithmetic). It sends through the pipeline and reports back only
// through the hooks it is given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "credentials.h"
#include "errors.h"
#include "interfaces.h"
#include "json.h"
#include "liveness.h"
#include "log.h"
#include "refresh_schedule.h"
#include "scoped_timer.h"
#include "wire.h"

namespace cleanslate {

// A request whose 401 waits for the refresh, with that 401.
struct RefreshWaiter {
  uint64_t call;
  HttpResponse original;
};

// What the waiters of a refresh that has ended do.
struct RefreshVerdict {
  bool replay = false;             // send again with the new token
  std::optional<ErrorCode> error;  // else settle with this code, or (empty) with their own 401
};

class RefreshCoordinator {
 public:
  // What the coordinator asks of the session around it.
  class Delegate {
   public:
    // POSTs `body` to endpoints.refresh through the pipeline.
    virtual void sendRefresh(std::string body, CallDone done) = 0;
    virtual void answerWaiters(std::vector<RefreshWaiter>&& waiters, RefreshVerdict verdict) = 0;
    // The tokens were rotated: tell the other tabs, then fire auth:refresh.
    virtual void announceRefresh(const std::string& access, const std::string& refresh) = 0;
    virtual void refreshed() = 0;
    // Ends the session here, without a backend notice.
    virtual void endLocally(EndReason reason) = 0;

   protected:
    ~Delegate() = default;
  };

  RefreshCoordinator(const Config& config, Scheduler& scheduler, TabLock* lock, Credentials& credentials,
                     const Log& log, const uint64_t& generation, const Liveness& alive, Delegate& delegate);

  // `call` got a 401 sent with `seenAccess`: it waits for a refresh.
  void wait(uint64_t call, HttpResponse&& original, const std::string& seenAccess);
  bool inFlight() const { return inFlight_; }

  // Tokens this tab just received (login, refresh): their lifetime starts now.
  void received(const std::string& refresh, const JsonObject& body, const std::string& access);
  // Another tab's login: its tokens have `ttlMs` left, when it said.
  void adopted(const std::string& fp, std::optional<double> ttlMs);
  // Another tab rotated the tokens (`fp`: their fingerprint, when it said).
  void rotatedElsewhere(const std::string* fp, std::optional<double> ttlMs);
  std::optional<double> remainingMs(const std::string& fp) const;
  // Arms the proactive refresh for the tokens held, if their expiry is known.
  void schedule();
  void joined() { rotatedFp_.clear(); }
  void sessionEnded() { schedule_.clear(); }
  void resetBackoff() { backoffMs_ = 0; }

  // A new generation: whatever refresh was under way is given up.
  void reset();
  void dispose();

 private:
  void start(const std::string& seenAccess);
  void onLocked(uint64_t epoch, TabLock::Release release);
  void decide(uint64_t epoch, int pollsLeft);
  void send(const std::string& refreshToken);
  void finish(uint64_t generation, const CallResult& result);
  // A refresh that ended with `error` and no answer.
  void fail(uint64_t generation, ErrorCode error);
  // Stores and announces the tokens of a refresh answer, if it is one.
  bool adopt(const std::string& answer);
  double retryDelayMs(const HttpResponse& response);
  void releaseLock();

  const Config& config_;
  Scheduler& scheduler_;
  TabLock* lock_;  // optional: refreshes are then serialised in this tab only
  Credentials& credentials_;
  const Log& log_;
  const uint64_t& generation_;
  Delegate& delegate_;

  bool inFlight_ = false;
  bool disposed_ = false;
  uint64_t epoch_ = 0;      // moves on with every refresh: a lock granted late is given back
  int attempt_ = 0;         // retries after 429/503
  std::string seenAccess_;  // the access token the refresh in flight replaces
  std::vector<RefreshWaiter> waiters_;
  TabLock::Release lockRelease_;
  ScopedTimer lockDeadline_;  // bounds the wait for the lock
  ScopedTimer lockHold_;      // holds the lock briefly after a rotation
  ScopedTimer retry_;         // the next try after 429/503
  ScopedTimer poll_;          // waits for another tab's rotation to show in storage
  ScopedTimer proactive_;
  std::string proactiveFp_;  // the tokens the proactive refresh last scheduled is for
  std::string rotatedFp_;    // announced by another tab, not yet seen in storage
  uint64_t jitterState_ = 0x2545F4914F6CDD1DULL;
  RefreshSchedule schedule_;
  double backoffMs_ = 0;   // the proactive retry's after a failed refresh
  const Liveness& alive_;  // the session's: callbacks that outlive it check it
};

}  // namespace cleanslate
