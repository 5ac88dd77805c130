// The session front (see session.h).
#include "session.h"

#include <cmath>
#include <utility>

#include "json.h"
#include "wire.h"

namespace cleanslate {
namespace {

constexpr std::size_t kMaxDetailChars = 200;
constexpr const char* kCredentialsMissing = "Email and password are required";

// Replaces `message` with the `detail` message of an error body, if any,
// shortened; never echoes anything that is not a plain string.
void readDetail(const HttpResponse& response, std::string* message) {
  if (parsedString(response.body, "detail", message) && message->size() > kMaxDetailChars) {
    message->resize(kMaxDetailChars);
  }
}

// The message of a login answered without a session because something
// overtook it: a newer login, the session's end, dispose().
const char* overtakenMessage(ErrorCode why) {
  return why == ErrorCode::Superseded ? "A newer login replaced this one"
         : why == ErrorCode::Disposed ? "The session was disposed"
                                      : "The session changed while logging in";
}

// Answers a login without a session.
void refuse(LoginCallback& done, ErrorCode why, const std::string& message) {
  done({false, {}, message, codeName(why)});
}

}  // namespace

Session::Session(const Config& config, const Platform& platform)
    : config_(config),
      platform_(platform),
      log_(platform.log, config_.logLevel),
      credentials_(platform.store, config_.storage, [this](const std::string& line) { log_(LogLevel::Warn, line); }),
      csrf_(config_, *platform.transport, *platform.scheduler, log_, generation_, alive_, *this),
      refresh_(config_, *platform.scheduler, platform.lock, credentials_, log_, generation_, alive_, *this),
      pipeline_(config_, *platform.transport, *platform.scheduler, generation_, alive_, credentials_, csrf_, refresh_),
      tabs_(config_, platform.channel, *platform.scheduler, log_, credentials_, refresh_, alive_, *this),
      notices_(config_, *platform.transport, *platform.scheduler, log_, alive_) {
  lastUser_ = credentials_.tokens.lastUser();
  if (lastUser_.empty() && credentials_.active) lastUser_ = userHash(credentials_.tokens.userJson());
  tabs_.open();
  refresh_.schedule();
}

Session::~Session() { dispose(); }

void Session::emit(const char* name, const std::string& extraJsonFields) {
  const auto timestamp = static_cast<long long>(std::floor(platform_.scheduler->nowMs()));
  std::string detail = withDecimal("{\"timestamp\":", timestamp);
  if (!extraJsonFields.empty()) detail.append(",").append(extraJsonFields);
  detail += '}';
  platform_.events->dispatch(name, detail);
}

// ---------------------------------------------------------------- public API

bool Session::isAuthenticated() { return !disposed_ && credentials_.active && credentials_.tokens.hasTokens(); }

std::string Session::userJson() {
  std::string user = isAuthenticated() ? credentials_.tokens.userJson() : std::string();
  if (!isJsonObject(user)) user = "null";
  return user;
}

uint64_t Session::request(const std::string& method, const std::string& target, RequestOptions options,
                          RequestCallback done) {
  if (disposed_) {
    done({code::kDisposed, {}});
    return 0;
  }
  return pipeline_.request(method, target, std::move(options), [done = std::move(done)](CallResult&& result) {
    done({result.error ? codeName(*result.error) : "", std::move(result.response)});
  });
}

void Session::cancel(uint64_t call) {
  if (!disposed_) pipeline_.cancel(call);
}

void Session::resetCsrfToken() {
  csrf_.drop();
  log_(LogLevel::Info, "[CSRF] Token cache reset for new session");
}

void Session::resetApiState() {
  beginGeneration();
  log_(LogLevel::Info, "[API] Interceptor state reset for new session");
}

void Session::beginGeneration() {
  ++generation_;
  dropHeld(ErrorCode::SessionChanged);
  refresh_.reset();
  pipeline_.settleAll(ErrorCode::SessionChanged);
}

void Session::onTabMessage(const std::string& messageJson) {
  if (!disposed_) tabs_.receive(messageJson);
}

void Session::dispose() {
  if (disposed_) return;
  disposed_ = true;
  dropHeld(ErrorCode::Disposed);
  refresh_.dispose();
  csrf_.dispose();
  tabs_.close();
  pipeline_.settleAll(ErrorCode::Disposed);
  notices_.dispose();
  alive_.reset();  // whatever still holds a callback of the session finds it gone
}

// ---------------------------------------------------------------- what the units ask

void Session::resume(uint64_t call, std::optional<ErrorCode> error) { pipeline_.resume(call, error); }

void Session::sendRefresh(std::string body, CallDone done) {
  pipeline_.postAuth(config_.refreshPath, std::move(body), std::move(done));
}

void Session::answerWaiters(std::vector<RefreshWaiter>&& waiters, RefreshVerdict verdict) {
  pipeline_.answer(std::move(waiters), verdict);
}

void Session::announceRefresh(const std::string& access, const std::string& refresh) {
  tabs_.postTokens("refresh", {}, access, refresh);
}

void Session::refreshed() { emit("auth:refresh", {}); }

void Session::endLocally(EndReason reason) { endSession(reason, false, nullptr); }

void Session::remoteLogin() {
  ++loginSeq_;  // a login of this tab still in flight is superseded
  if (loginCall_ != 0) pipeline_.settle(loginCall_, ErrorCode::Superseded);
  dropHeld(ErrorCode::Superseded);
  beginGeneration();
}

void Session::joined(const std::string& user) {
  AcceptedLogin login;
  login.user = user;
  if (!holdForSwitch(login)) completeLogin(login);
}

// ---------------------------------------------------------------- login

void Session::login(const std::string& email, const std::string& password, LoginCallback done) {
  if (disposed_) return refuse(done, ErrorCode::Disposed, overtakenMessage(ErrorCode::Disposed));
  if (email.empty() || password.empty()) return refuse(done, ErrorCode::InvalidArgument, kCredentialsMissing);
  log_(LogLevel::Info, "[Auth] Attempting login for: " + email);
  if (loginCall_ != 0) pipeline_.settle(loginCall_, ErrorCode::Superseded);  // the newest login wins
  dropHeld(ErrorCode::Superseded);
  const uint64_t seq = ++loginSeq_;
  csrf_.drop();  // a login starts a new session: its CSRF token is fetched fresh
  loginCall_ = pipeline_.postAuth(
      config_.loginPath, "{\"email\":" + jsonString(email) + ",\"password\":" + jsonString(password) + "}",
      [this, seq, done = std::move(done)](const CallResult& result) mutable { onLoginDone(seq, result, done); });
}

void Session::onLoginDone(uint64_t seq, const CallResult& result, LoginCallback& done) {
  if (seq == loginSeq_) loginCall_ = 0;
  const HttpResponse& response = result.response;
  const int status = response.status;
  JsonObject body;
  std::string access;
  std::string refresh;
  std::string user;
  // Every failure is answered by the one call below the checks.
  std::optional<ErrorCode> error = result.error;
  std::string message;
  if (error == ErrorCode::Superseded || error == ErrorCode::SessionChanged) {
    message = overtakenMessage(*error);
  } else if (error) {
    message = std::string("Login failed: ") + codeName(*error);
  } else if (seq != loginSeq_ || disposed_) {
    error = ErrorCode::SessionChanged;
    message = overtakenMessage(*error);
  } else if (status == 401) {
    error = ErrorCode::InvalidCredentials;
    message = "Invalid credentials";
    readDetail(response, &message);
  } else if (status == 429) {
    error = ErrorCode::RateLimited;
    message = "Too many attempts";
    readDetail(response, &message);
  } else if (status >= 500) {
    error = ErrorCode::ServerError;
    message = withDecimal("Server error (HTTP ", status, ")");
  } else if (status < 200 || status >= 300) {
    error = ErrorCode::HttpError;
    message = withDecimal("Login failed (HTTP ", status, ")");
    readDetail(response, &message);
  } else if (response.body.size() > config_.maxAuthResponseBytes || !body.parse(response.body) ||
             !body.string("access_token", &access) || !body.string("refresh_token", &refresh) ||
             !isHeaderValue(access) || !body.object("user", &user)) {
    error = ErrorCode::BadResponse;
    message = "The server's login response was not understood";
  }
  if (error) return refuse(done, *error, message);

  log_(LogLevel::Info, "[Auth] Login successful, storing tokens");
  // The CSRF token fetched for this login belongs to the session it starts.
  const bool carryCsrf = csrf_.current();
  tabs_.cancelJoin();  // this tab's own login wins over one it was about to join
  beginGeneration();   // whatever the previous session left in flight ends here
  if (carryCsrf) csrf_.adopt();
  refresh_.received(refresh, body, access);  // the tokens' lifetime starts now, held or not
  AcceptedLogin login{access, refresh, user, std::move(done)};
  if (!holdForSwitch(login)) completeLogin(login);
}

void Session::completeLogin(const AcceptedLogin& login) {
  rememberUser(login.user);
  const std::string userField = "\"user\":" + login.user;
  if (login.done) {  // this tab's own login; another tab's, joined, holds its session already
    credentials_.tokens.store(login.access, login.refresh, login.user);
    credentials_.ownRefresh = login.refresh;
    credentials_.active = true;
    tabs_.postTokens("login", userField, login.access, login.refresh);
    refresh_.resetBackoff();
    refresh_.schedule();
  }
  emit("auth:login", userField);
  login.done({true, login.user, {}, {}});
}

// ---------------------------------------------------------------- the app's own state (CONTRACT.md §5.2)

void Session::resetApp(const char* reason, ResetSink::Settled settled) {
  lastUser_.clear();
  if (platform_.reset == nullptr || inReset_) return settled();
  inReset_ = true;
  platform_.reset->reset(reason, std::move(settled));
  inReset_ = false;
}

bool Session::holdForSwitch(AcceptedLogin& login) {
  if (lastUser_.empty()) return false;
  const std::string hash = userHash(login.user);
  if (hash.empty() || hash == lastUser_) return false;
  log_(LogLevel::Debug, "[Auth] Another user logged in: resetting the app's state first");
  dropHeld(ErrorCode::Superseded);
  // While the app's state is reset, this tab's own login holds no session:
  // nothing sent meanwhile carries the previous user's tokens.
  if (login.done) credentials_.active = false;
  held_.emplace(std::move(login));
  const uint64_t epoch = ++heldEpoch_;
  resetApp("switch", [this, alive = alive_.watch(), epoch]() {
    if (alive) releaseHeld(epoch);
  });
  return true;
}

void Session::releaseHeld(uint64_t epoch) {
  if (epoch != heldEpoch_ || !held_ || disposed_) return;
  AcceptedLogin login = std::move(*held_);
  held_.reset();
  completeLogin(login);
}

void Session::dropHeld(ErrorCode why) {
  if (!held_) return;
  LoginCallback done = std::move(held_->done);
  held_.reset();
  ++heldEpoch_;
  refuse(done, why, overtakenMessage(why));
}

void Session::rememberUser(const std::string& user) {
  lastUser_ = userHash(user);
  if (lastUser_.empty()) return credentials_.tokens.forgetLastUser();
  credentials_.tokens.setLastUser(lastUser_);
}

// ---------------------------------------------------------------- logout

void Session::logout(LogoutCallback done) {
  if (disposed_) return done({false});
  endSession(EndReason::User, true, std::move(done));
}

void Session::remoteLogout(const std::string& handedOver) {
  if (credentials_.active) endSession(EndReason::Remote, false, nullptr);
  credentials_.ownRefresh.clear();
  if (!handedOver.empty() && !disposed_) {
    log_(LogLevel::Debug, "[Auth] Telling the backend about another tab's logout");
    notices_.send(handedOver, nullptr);
  }
}

void Session::endSession(EndReason reason, bool notifyBackend, LogoutCallback done) {
  static const char* const kFirstLine[] = {"[Auth] Logging out", "[Auth] Session expired, logging out",
                                           "[Auth] Logged out in another tab"};
  log_(LogLevel::Info, kFirstLine[static_cast<int>(reason)]);
  std::string refreshToken = credentials_.heldRefresh();
  // Another tab's login that this tab has not joined yet is a session all the
  // same: revoke its token when storage already shows it here, else name it
  // so that the tab that wrote it does (whatever timers a hidden tab runs).
  std::string handOver;
  if (refreshToken.empty() && !tabs_.joinFp().empty()) {
    const std::string shown = credentials_.tokens.refresh();
    if (!shown.empty() && fingerprint(shown) == tabs_.joinFp()) {
      refreshToken = shown;
    } else {
      handOver = tabs_.joinFp();
    }
  }
  tabs_.cancelJoin();
  credentials_.ownRefresh.clear();
  refresh_.sessionEnded();
  credentials_.active = false;
  ++loginSeq_;  // a login still in flight must not resurrect a session
  // The order of CONTRACT.md §3 and §5.2: CSRF, API state, the app's hooks
  // and cleaners, tokens, event, backend.
  resetCsrfToken();
  resetApiState();
  log_(LogLevel::Info, "[Auth] API state reset complete");
  resetApp(reasonName(reason), nullptr);
  // Shared storage was cleared by the tab that logged out; clearing it again
  // here could wipe a session that tab has started since.
  const bool remote = reason == EndReason::Remote;
  if (!remote || !credentials_.shared()) {
    credentials_.tokens.clear();
    credentials_.tokens.forgetLastUser();
  }
  log_(LogLevel::Info, std::string("[Auth] Tokens cleared from ") + credentials_.storageName());
  const std::string reasonField = std::string("\"reason\":\"") + reasonName(reason) + "\"";
  if (!remote) {
    const bool askHolder = notifyBackend && !handOver.empty();
    tabs_.post("logout", askHolder ? reasonField + ",\"revoke\":\"" + handOver + "\"" : reasonField);
    if (askHolder) log_(LogLevel::Debug, "[Auth] The tab that holds the session tells the backend");
  }
  emit("auth:logout", reasonField);
  // No backend notice once a listener has disposed the session.
  if (notifyBackend && !refreshToken.empty() && !disposed_) return notices_.send(refreshToken, std::move(done));
  done({false});
}

}  // namespace cleanslate
