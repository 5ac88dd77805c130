// The session core's front: login, logout and the public API, over units
// that each own one job:
//   RequestPipeline    every request: headers, deadlines, CSRF retry, 401 → refresh
//   CsrfCache          the CSRF token, fetched at most once at a time
//   RefreshCoordinator one refresh at a time, across tabs; the proactive schedule
//   TabSync            messages to and from the other tabs of the origin
//   LogoutNotices      the bounded backend notification of a logout
//   Credentials        the tokens as this tab holds them
// The front owns the session generation (which makes sure nothing from an
// ended session survives into the next one), the order of a logout, the
// auth:* events and the log lines of CONTRACT.md §3.
//
// Single-threaded and callback-driven. Every result a caller receives is
// delivered exactly once; after dispose() nothing more is delivered.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config.h"
#include "credentials.h"
#include "csrf_cache.h"
#include "errors.h"
#include "interfaces.h"
#include "liveness.h"
#include "log.h"
#include "logout_notice.h"
#include "refresh_coordinator.h"
#include "request_pipeline.h"
#include "tab_sync.h"

namespace cleanslate {

struct Platform {
  Transport* transport = nullptr;
  KeyValueStore* store = nullptr;
  EventSink* events = nullptr;
  Scheduler* scheduler = nullptr;
  LogSink* log = nullptr;
  TabChannel* channel = nullptr;  // optional: no cross-tab messages without it
  TabLock* lock = nullptr;        // optional: refreshes are then serialised in this tab only
  ResetSink* reset = nullptr;     // optional: no app hooks or cleaners without it
};

// The error codes as strings, for the outcome structs below and the code
// that handles codes as strings (the bindings, the fuzz target); the names
// live once, in errors.h.
namespace code {
inline constexpr const char* kNetwork = codeName(ErrorCode::Network);
inline constexpr const char* kTimeout = codeName(ErrorCode::Timeout);
inline constexpr const char* kSessionChanged = codeName(ErrorCode::SessionChanged);
inline constexpr const char* kSessionExpired = codeName(ErrorCode::SessionExpired);
inline constexpr const char* kBadResponse = codeName(ErrorCode::BadResponse);
inline constexpr const char* kCsrfUnavailable = codeName(ErrorCode::CsrfUnavailable);
inline constexpr const char* kDisposed = codeName(ErrorCode::Disposed);
inline constexpr const char* kInvalidArgument = codeName(ErrorCode::InvalidArgument);
inline constexpr const char* kInvalidCredentials = codeName(ErrorCode::InvalidCredentials);
inline constexpr const char* kRateLimited = codeName(ErrorCode::RateLimited);
inline constexpr const char* kServerError = codeName(ErrorCode::ServerError);
inline constexpr const char* kHttpError = codeName(ErrorCode::HttpError);
inline constexpr const char* kSuperseded = codeName(ErrorCode::Superseded);
inline constexpr const char* kResponseTooLarge = codeName(ErrorCode::ResponseTooLarge);
}  // namespace code

struct RequestOutcome {
  std::string code;  // empty: `response` holds an HTTP response (any status); else codeName()
  HttpResponse response;
};

struct LoginOutcome {
  bool success = false;
  std::string userJson;
  std::string error;
  std::string code;
};

using RequestCallback = Callback<void(const RequestOutcome&)>;
using LoginCallback = Callback<void(const LoginOutcome&)>;

class Session final : private CsrfCache::Delegate, private RefreshCoordinator::Delegate, private TabSync::Delegate {
 public:
  Session(const Config& config, const Platform& platform);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void login(const std::string& email, const std::string& password, LoginCallback done);
  // Local state is clean and auth:logout has fired before this returns; the
  // backend notification follows, bounded by logoutTimeoutMs, then `done`.
  void logout(LogoutCallback done);
  // Returns the call's id for cancel(), or 0 when it settled at once.
  uint64_t request(const std::string& method, const std::string& target, RequestOptions options, RequestCallback done);
  // Drops a request (an abort signal fired): it is cancelled wherever it
  // waits and its `done` never runs. Unknown or settled ids are ignored.
  void cancel(uint64_t call);
  void resetCsrfToken();
  void resetApiState();
  bool isAuthenticated();
  std::string userJson();  // a JSON object, or "null"
  void dispose();
  // A message from another tab (see TabChannel).
  void onTabMessage(const std::string& messageJson);

  bool disposed() const { return disposed_; }
  uint64_t generation() const { return generation_; }
  std::size_t pendingCount() const { return pipeline_.size(); }
  bool refreshInFlight() const { return refresh_.inFlight(); }

 private:
  // CsrfCache::Delegate
  void resume(uint64_t call, std::optional<ErrorCode> error) override;
  // RefreshCoordinator::Delegate
  void sendRefresh(std::string body, CallDone done) override;
  void answerWaiters(std::vector<RefreshWaiter>&& waiters, RefreshVerdict verdict) override;
  void announceRefresh(const std::string& access, const std::string& refresh) override;
  void refreshed() override;
  void endLocally(EndReason reason) override;
  // TabSync::Delegate
  void remoteLogout(const std::string& handedOver) override;
  void remoteLogin() override;
  void joined(const std::string& user) override;

  // A login the backend accepted; held while the app's state of the
  // previous user is reset ('switch').
  struct AcceptedLogin {
    std::string access;
    std::string refresh;
    std::string user;
    LoginCallback done;  // empty: another tab's login, joined (only auth:login waits)
  };

  void onLoginDone(uint64_t seq, const CallResult& result, LoginCallback& done);
  // Stores this tab's own login and tells the other tabs; fires auth:login
  // for it or for another tab's, joined.
  void completeLogin(const AcceptedLogin& login);
  void endSession(EndReason reason, bool notifyBackend, LogoutCallback done);
  // The app's reset hooks and cleaners (CONTRACT.md §5.2), then this tab
  // forgets the last user. `settled` as in ResetSink::reset.
  void resetApp(const char* reason, ResetSink::Settled settled);
  // Whether `login` is a 'switch': another user than the last one this
  // origin saw with no reset in between. If so, resets the app's state and
  // holds `login` until that has settled.
  bool holdForSwitch(AcceptedLogin& login);
  void releaseHeld(uint64_t epoch);
  // Answers a held login that will not complete.
  void dropHeld(ErrorCode why);
  // Remembers `user` as the last user this origin saw (see lastUser_).
  void rememberUser(const std::string& user);
  // Every call still held belongs to the generation that ends here.
  void beginGeneration();
  void emit(const char* name, const std::string& extraJsonFields);

  Config config_;
  Platform platform_;
  Log log_;
  Liveness alive_;
  bool disposed_ = false;
  uint64_t generation_ = 1;
  uint64_t loginSeq_ = 0;   // moves on with every login and session end: a late login answer is stale
  uint64_t loginCall_ = 0;  // the login in flight, if any
  // The hash of the last user's id this tab saw with no reset since ("":
  // none). Kept in memory as well as in storage: another tab's login
  // rewrites the stored one before this tab sees it.
  std::string lastUser_;
  std::optional<AcceptedLogin> held_;  // a login waiting for a 'switch' reset
  uint64_t heldEpoch_ = 0;
  bool inReset_ = false;  // the app's hooks are running: a logout they start does not run them again
  Credentials credentials_;
  CsrfCache csrf_;
  RefreshCoordinator refresh_;
  RequestPipeline pipeline_;
  TabSync tabs_;
  LogoutNotices notices_;
};

}  // namespace cleanslate
