// The session core: login, the request pipeline (headers, CSRF, refresh and
// replay, timeouts), logout, and the session generation that makes sure
// nothing from an ended session survives into the next one.
//
// Single-threaded and callback-driven. Every result a caller receives is
// delivered exactly once; after dispose() nothing more is delivered.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "id_table.h"
#include "interfaces.h"
#include "liveness.h"
#include "refresh_schedule.h"
#include "token_store.h"

namespace cleanslate {

struct Platform {
  Transport* transport = nullptr;
  KeyValueStore* store = nullptr;
  EventSink* events = nullptr;
  Scheduler* scheduler = nullptr;
  LogSink* log = nullptr;
  TabChannel* channel = nullptr;  // optional: no cross-tab messages without it
  TabLock* lock = nullptr;        // optional: refreshes are then serialised in this tab only
};

// Error codes a caller can see (SessionError.code in JS).
namespace code {
inline constexpr const char* kNetwork = "network";
inline constexpr const char* kTimeout = "timeout";
inline constexpr const char* kSessionChanged = "session_changed";
inline constexpr const char* kSessionExpired = "session_expired";
inline constexpr const char* kBadResponse = "bad_response";
inline constexpr const char* kCsrfUnavailable = "csrf_unavailable";
inline constexpr const char* kDisposed = "disposed";
inline constexpr const char* kInvalidArgument = "invalid_argument";
inline constexpr const char* kInvalidCredentials = "invalid_credentials";
inline constexpr const char* kRateLimited = "rate_limited";
inline constexpr const char* kServerError = "server_error";
inline constexpr const char* kHttpError = "http_error";
inline constexpr const char* kSuperseded = "superseded";
inline constexpr const char* kResponseTooLarge = "response_too_large";
}  // namespace code

struct RequestOptions {
  std::string body;
  bool hasBody = false;
  std::string contentType;  // used when the caller's headers give none
  Headers headers;
};

struct RequestOutcome {
  std::string code;  // empty: `response` holds an HTTP response (any status)
  HttpResponse response;
};

struct LoginOutcome {
  bool success = false;
  std::string userJson;
  std::string error;
  std::string code;
};

struct LogoutOutcome {
  bool backendNotified = false;
};

using RequestCallback = Callback<void(const RequestOutcome&)>;
using LoginCallback = Callback<void(const LoginOutcome&)>;
using LogoutCallback = Callback<void(const LogoutOutcome&)>;

class Session {
 public:
  Session(Config config, const Platform& platform);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void login(const std::string& email, const std::string& password, LoginCallback done);
  // Local state is clean and auth:logout has fired before this returns; the
  // backend notification follows, bounded by logoutTimeoutMs, then `done`.
  void logout(LogoutCallback done);
  void request(const std::string& method, const std::string& target, RequestOptions options,
               RequestCallback done);
  void resetCsrfToken();
  void resetApiState();
  bool isAuthenticated();
  std::string userJson();  // a JSON object, or "null"
  void dispose();
  // A message from another tab (see TabChannel).
  void onTabMessage(const std::string& messageJson);

  bool disposed() const { return disposed_; }
  uint64_t generation() const { return generation_; }
  std::size_t pendingCount() const { return calls_.size(); }
  bool refreshInFlight() const { return refreshInFlight_; }

 private:
  enum class Kind { User, Login, Refresh };
  struct Call {
    Kind kind = Kind::User;
    uint64_t generation = 0;
    std::string method;
    std::string url;
    bool sameOrigin = false;
    bool unsafe = false;
    bool authEndpoint = false;
    RequestOptions options;
    bool replayed = false;
    bool csrfRetried = false;
    uint64_t attempt = 0;
    uint64_t transportHandle = 0;
    bool inTransport = false;
    uint64_t timer = 0;
    std::string accessUsed;
    std::string csrfUsed;
    RequestCallback done;
  };
  struct RefreshWaiter {
    uint64_t id;
    HttpResponse original;
  };
  struct LogoutNotice {
    bool finished = false;
    uint64_t handle = 0;
    bool inTransport = false;
    uint64_t timer = 0;
    LogoutCallback done;
  };

  uint64_t startCall(Kind kind, const std::string& method, const std::string& target,
                     RequestOptions options, bool authEndpoint, RequestCallback done);
  void advance(uint64_t id);
  void transmit(uint64_t id);
  void onResponse(uint64_t id, uint64_t attempt, HttpResponse response);
  void settle(uint64_t id, const char* errorCode);  // no response
  void settle(uint64_t id, const char* errorCode, HttpResponse response);
  Headers buildHeaders(const Call& call) const;

  void fetchCsrf();
  // Forgets the token and any fetch under way; its waiters start over.
  void dropCsrfToken();
  void onCsrfResponse(uint64_t epoch, const HttpResponse& response);
  void failCsrfWaiters(const char* errorCode);

  void onUnauthorized(uint64_t id, HttpResponse response);
  void startRefresh(const std::string& seenAccess);
  void onRefreshLocked(uint64_t epoch, const std::string& seenAccess, TabLock::Release release);
  void onRefreshDone(uint64_t generation, const RequestOutcome& outcome);
  // Answers the waiters of a refresh that has ended: each is replayed when
  // `errorCode` is null, else settled with it (an empty code: with its own 401).
  void answerRefreshWaiters(std::vector<RefreshWaiter> waiters, const char* errorCode);
  void decideRefresh(uint64_t epoch, const std::string& seenAccess, int pollsLeft);
  void sendRefresh(const std::string& refreshToken);
  double refreshRetryDelayMs(const HttpResponse& response);
  void releaseRefreshLock();
  void joinRemoteLogin(uint64_t epoch, const std::string& user, const std::string& fp, int pollsLeft);
  std::string heldAccess();
  std::string heldRefresh();
  void postToTabs(const char* type, const std::string& extraJsonFields);
  bool sharedStorage() const;
  std::string tokenFields(const std::string& access, const std::string& refresh) const;
  void scheduleProactiveRefresh();
  void cancelProactiveRefresh();

  void onLoginDone(uint64_t seq, const RequestOutcome& outcome, const LoginCallback& done);
  void endSession(const char* reason, bool notifyBackend, LogoutCallback done);
  void notifyBackend(const std::string& refreshToken, LogoutCallback done);
  void finishNotice(uint64_t id, bool ok, const std::string& reason);

  void beginGeneration();
  void emit(const char* name, const std::string& extraJsonFields);
  bool logs(LogLevel level) const;  // whether a line at this level is written
  void log(LogLevel level, const std::string& line);
  void log(LogLevel level, const char* line);  // the string is made only when written
  std::string storageName() const;
  template <typename F>
  Callback<void()> guarded(F f);

  Config config_;
  Platform platform_;
  TokenStore tokens_;
  Liveness alive_;
  bool disposed_ = false;

  uint64_t generation_ = 1;
  uint64_t nextId_ = 1;
  IdMap<Call> calls_;

  // CSRF cache: one token per generation, fetched at most once at a time.
  std::string csrfToken_;
  uint64_t csrfGeneration_ = 0;
  bool csrfFetching_ = false;
  uint64_t csrfFetchGeneration_ = 0;
  uint64_t csrfEpoch_ = 0;
  uint64_t csrfHandle_ = 0;
  uint64_t csrfTimer_ = 0;
  std::vector<uint64_t> csrfWaiters_;

  // Refresh: at most one in flight; the 401s that wait for it.
  bool refreshInFlight_ = false;
  uint64_t refreshCall_ = 0;
  uint64_t refreshEpoch_ = 0;
  uint64_t refreshLockTimer_ = 0;   // bounds the wait for the lock
  uint64_t lockReleaseTimer_ = 0;   // holds the lock briefly after a rotation
  TabLock::Release refreshLockRelease_;
  std::string rotatedFingerprint_;
  int refreshAttempt_ = 0;
  uint64_t refreshRetryTimer_ = 0;
  uint64_t jitterState_ = 0x2545F4914F6CDD1DULL;  // announced by another tab, not yet seen in storage
  std::vector<RefreshWaiter> refreshWaiters_;
  uint64_t proactiveTimer_ = 0;
  RefreshSchedule schedule_;
  double proactiveBackoffMs_ = 0;

  bool active_ = false;  // a session is held (known in memory, whatever storage says now)
  uint64_t joinEpoch_ = 0;  // moves on with every login/logout, cancelling a join still waiting for storage
  // The fingerprint of another tab's login this tab has not seen in storage
  // yet (empty: none), and the refresh token this tab itself last wrote.
  std::string joinFp_;
  std::string ownRefresh_;
  uint64_t loginSeq_ = 0;
  uint64_t loginCall_ = 0;

  IdMap<LogoutNotice> notices_;
};

}  // namespace cleanslate
