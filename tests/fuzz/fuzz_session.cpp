// libFuzzer target for wasm/core/session.cpp: drives one cleanslate::Session
// on the shared fakes (tests/native/fakes.h) with a script, one operation per line, so the
// fuzzer explores orderings of calls, answers, failures and clock moves, and
// any response body the backend (or another tab's storage) might hold.
//
// Script (unknown lines are ignored; "-" stands for an empty argument):
//   K <n>                 first line only: config variant n (0-3, see kConfigs)
//   L [email] [password]  login
//   O                     logout
//   H <name> <value>      a caller header for the next R (value gets a "caller:" prefix)
//   R [method] [target] [body]   request (a body is sent as application/json)
//   A <sel> <status> [body]      answer a pending request
//   F <sel> [timeout]     fail a pending request (network, or timeout)
//   Y <status> [body] | Y fail [timeout]   answer the next send synchronously
//   T <ms>                advance the virtual clock (0 .. 1e10 ms), running due timers
//   N                     run the next timer
//   C | S | D             resetCsrfToken | resetApiState | dispose
//   Z <n> | Z #<id>       cancel the n-th request issued (modulo their count; an
//                         abort signal), or whatever pipeline call has that id
//                         (a login or refresh must not be cancellable)
//   W [r][w]              storage faults from now on: r every call fails
//                         (SecurityError), w writes fail (QuotaExceededError)
//   X <key> [value]       another tab writes `value` into storage under `key`
//   U                     isAuthenticated() and userJson()
//   Q                     the app's reset hooks finish their async work (a
//                         login of another user waits for it: a 'switch')
//   M <json>              a message from another tab (Session::onTabMessage,
//                         when the core has it). Which session shared storage
//                         then holds is the other tab's business, so a script
//                         with M keeps every check but the token-ownership ones.
//   E <login|logout|refresh> <d|o|l|r|p|c|s>  a listener that, once, on that
//                         event disposes / logs out / logs in / GETs / POSTs /
//                         resets CSRF / resets API state
//   # comment
// <sel> is a pending request: a number (index, modulo the count) or a word
// found in its URL (first match). A body is a template or raw text:
//   @login[:ttl] @ologin  login success (JWT access expiring in ttl s, default
//                         900; or an opaque one), @refresh[:ttl] @orefresh,
//   @csrf, @csrfbad (the 403 csrf_invalid body), @detail, @empty;
//   raw text takes \n \r \t \0 \\ \xHH and \*N<c> (c repeated N times).
//
// With FUZZ_SESSION_TRACE=1 in the environment every line, send, answer,
// event and outcome is printed to stderr (to read a reproducer).
//
// Invariants (abort on violation): every callback settles exactly once, and
// by the end (all timeouts elapsed), except a request cancelled before it
// settled, which never does; nothing is delivered after dispose()
// returns; a request succeeds only with an answer to its own URL in its own
// generation; auth:logout fires with no token or user left in storage; a
// token of an ended session is never sent nor written back; credentials and
// CSRF tokens go only to the apiBase origin (read independently), every
// unsafe request there carries a CSRF token; headers never hold CR/LF/NUL;
// timers stay within setTimeout's range; no crash, leak or UB.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/session.h"
#include "core/url.h"
#include "fakes.h"
#include "fuzz_check.h"
#include "json_dom.h"

namespace {

using namespace cleanslate;
using namespace cleanslate::testing;

const char* const kConfigs[] = {
    R"({"apiBase":"https://api.example.com/api/v1","logLevel":"debug"})",
    R"({"apiBase":"https://api.example.com/api/v1","logLevel":"debug","requestTimeoutMs":1000,"logoutTimeoutMs":500})",
    R"({"apiBase":"https://api.example.com/api/v1","logLevel":"warn","maxAuthResponseBytes":1024,"refreshLeewaySec":0})",
    (R"({"apiBase":"http://127.0.0.1:8080","storage":"session","csrfHeader":"X-XSRF-Token","requestTimeoutMs":5000,)"
     R"("endpoints":{"login":"login","refresh":"/token/refresh","logout":"/logout","csrf":"/csrf"}})"),
};

constexpr std::size_t kTimerBudget = 20000;  // timer firings for the whole script, and again for the final drain
constexpr std::size_t kMaxBodyBytes = 2200000;
constexpr std::size_t kMaxGeneratedBytes = 4400000;
const char* const kKnownCodes[] = {
    code::kNetwork,         code::kTimeout,   code::kSessionChanged,  code::kSessionExpired,     code::kBadResponse,
    code::kCsrfUnavailable, code::kDisposed,  code::kInvalidArgument, code::kInvalidCredentials, code::kRateLimited,
    code::kServerError,     code::kHttpError, code::kSuperseded};

bool iequals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

bool knownCode(const std::string& c) {
  for (const char* k : kKnownCodes) {
    if (c == k) return true;
  }
  return false;
}

// Session::onTabMessage(messageJson), where the core has it.
template <typename S, typename = void>
struct HasTabMessage : std::false_type {};
template <typename S>
struct HasTabMessage<S, std::void_t<decltype(std::declval<S&>().onTabMessage(std::string()))>> : std::true_type {};
template <typename S>
void tabMessage(S& session, const std::string& message) {
  if constexpr (HasTabMessage<S>::value) session.onTabMessage(message);
}

bool tracing() {
  static const bool on = std::getenv("FUZZ_SESSION_TRACE") != nullptr;
  return on;
}

void trace(const std::string& what) {
  if (tracing()) std::fprintf(stderr, "  %s\n", what.substr(0, 300).c_str());
}

long long parseInt(const std::string& s, long long lo, long long hi, long long fallback) {
  if (s.empty()) return fallback;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str()) return fallback;
  return v < lo ? lo : (v > hi ? hi : v);
}

struct Track {
  enum Kind { Request, Login, Logout } kind = Request;
  int settled = 0;
  bool beforeDispose = true;  // issued while the session was not disposed
  uint64_t generation = 0;    // session generation when issued
  std::size_t reactions = 0;  // listener reactions run when issued
  std::string url;            // requests: the URL the target resolves to
  uint64_t call = 0;          // requests: the id Session::request returned
  bool cancelled = false;     // cancelled before it settled: it never may
};

class Runner {
 public:
  explicit Runner(std::size_t configIndex) {
    ConfigResult parsed = parseConfig(kConfigs[configIndex]);
    FUZZ_CHECK(parsed.error.empty(), parsed.error);
    config_ = parsed.config;
    apiKey_ = fuzzcheck::browserOrigin(config_.apiBase).value_or("");
    FUZZ_CHECK(!apiKey_.empty(), "apiBase unreadable");
    transport_.onSend = [this](const HttpRequest& r) { onSend(r); };
    transport_.autoReply = [this](const HttpRequest&) { return syncAnswer(); };
    transport_.onAnswer = [this](const PendingRequest& p, const HttpResponse& r) { recordAnswer(p, r); };
    events_.onEvent = [this](const std::string& name, const std::string& detail) { onEvent(name, detail); };
    store_.onSet = [this](const std::string& key, const std::string& value) { onStore(key, value); };
    // Nothing is kept for later assertions (the checks run as things happen),
    // and a flood of timers is cut short as a throttled tab would.
    transport_.recordSent = false;
    events_.record = false;
    log_.keep = false;
    scheduler_.budget = kTimerBudget;
    session_ = std::make_unique<Session>(
        config_, Platform{&transport_, &store_, &events_, &scheduler_, &log_, nullptr, nullptr, &reset_});
  }

  void run(const std::vector<std::string>& lines) {
    for (const std::string& line : lines) {
      if (tracing()) std::fprintf(stderr, "> %s\n", line.substr(0, 300).c_str());
      exec(line);
      if (session_->disposed() && !disposed_) {
        // dispose() has returned (perhaps called by a listener during this
        // line): everything must be settled, and nothing more delivered.
        disposed_ = true;
        for (const Track& t : tracks_) {
          FUZZ_CHECK(t.settled == 1 || t.cancelled, "dispose() returned with a callback never settled");
        }
      }
    }
    finish();
  }

 private:
  // ------------------------------------------------------------ script

  // An argument: `fallback` when absent, empty for "-".
  static std::string arg(const std::string& word, const std::string& fallback) {
    if (word.empty()) return fallback;
    return word == "-" ? std::string() : word;
  }

  static std::vector<std::string> split(const std::string& line, std::size_t count, std::string* rest) {
    std::vector<std::string> out;
    std::size_t i = 1;  // after the op letter
    while (out.size() < count) {
      while (i < line.size() && line[i] == ' ') ++i;
      const std::size_t start = i;
      while (i < line.size() && line[i] != ' ') ++i;
      out.push_back(line.substr(start, i - start));
    }
    while (i < line.size() && line[i] == ' ') ++i;
    if (rest) *rest = i < line.size() ? line.substr(i) : std::string();
    return out;
  }

  void exec(const std::string& line) {
    if (line.empty()) return;
    std::string rest;
    switch (line[0]) {
      case 'L': {
        const auto a = split(line, 2, nullptr);
        login(arg(a[0], "a@test.com"), arg(a[1], "pw"));
        break;
      }
      case 'O': logout(); break;
      case 'H': {
        const auto a = split(line, 1, &rest);
        if (headers_.size() < 8) headers_.emplace_back(arg(a[0], "X-Trace"), "caller:" + rest);
        break;
      }
      case 'R': {
        const auto a = split(line, 2, &rest);
        request(arg(a[0], "GET"), arg(a[1], "/x"), unescape(rest));
        break;
      }
      case 'A': {
        const auto a = split(line, 2, &rest);
        const int index = select(a[0]);
        if (index < 0) break;
        HttpResponse response;
        response.status = static_cast<int>(parseInt(a[1], -1, 999, 200));
        response.body = body(rest);
        response.rawHeaders = "content-type: application/json\r\n";
        transport_.answer(static_cast<std::size_t>(index), std::move(response));
        break;
      }
      case 'F': {
        const auto a = split(line, 2, nullptr);
        const int index = select(a[0]);
        if (index < 0) break;
        HttpResponse response;
        response.error = a[1].rfind("t", 0) == 0 ? TransportError::Timeout : TransportError::Network;
        transport_.answer(static_cast<std::size_t>(index), std::move(response));
        break;
      }
      case 'Y': {
        const auto a = split(line, 1, &rest);
        if (syncQueue_.size() >= 16) break;
        if (a[0] == "fail") {
          syncQueue_.push_back({-1, rest.rfind("t", 0) == 0 ? "timeout" : "network"});
        } else {
          syncQueue_.push_back({static_cast<int>(parseInt(a[0], -1, 999, 200)), rest});
        }
        break;
      }
      case 'T': {
        const auto a = split(line, 1, nullptr);
        scheduler_.advance(static_cast<double>(parseInt(a[0], 0, 10000000000LL, 1000)));
        break;
      }
      case 'N': scheduler_.runNext(); break;
      case 'C': resetCsrf(); break;
      case 'S': session_->resetApiState(); break;
      case 'D': dispose(); break;
      case 'Z': {
        const auto a = split(line, 1, nullptr);
        cancel(a[0]);
        break;
      }
      case 'W':
        store_.blocked = line.find('r', 1) != std::string::npos;
        store_.full = line.find('w', 1) != std::string::npos;
        break;
      case 'X': {
        const auto a = split(line, 1, &rest);
        const std::string value = unescape(rest);
        const std::string key = arg(a[0], "access_token");
        store_.values[key] = value;
        if (key == "access_token" || key == "refresh_token") mint(value, true);
        break;
      }
      case 'U': inspect(); break;
      case 'Q': reset_.settle(); break;
      case 'M': {
        split(line, 0, &rest);
        const std::string message = unescape(rest);
        // Tokens another tab hands over are this session's from then on.
        const Json m = parseJson(message);
        std::string value;
        if (stringField(m, "access_token", &value)) mint(value, true);
        if (stringField(m, "refresh_token", &value)) mint(value, true);
        foreign_ = true;
        tabMessage(*session_, message);
        break;
      }
      case 'E': {
        const auto a = split(line, 2, nullptr);
        if (a[0] == "login" || a[0] == "logout" || a[0] == "refresh") reactions_["auth:" + a[0]] = arg(a[1], "d")[0];
        break;
      }
      default: break;
    }
  }

  // A pending request by index or by a word of its URL; -1 when none.
  int select(const std::string& sel) {
    if (transport_.pending.empty()) return -1;
    bool digits = !sel.empty() && sel.size() < 9;
    for (char c : sel) digits = digits && c >= '0' && c <= '9';
    if (sel.empty() || digits) {
      const long long n = digits ? std::atoll(sel.c_str()) : 0;
      return static_cast<int>(static_cast<std::size_t>(n) % transport_.pending.size());
    }
    for (std::size_t i = 0; i < transport_.pending.size(); ++i) {
      if (transport_.pending[i].request.url.find(sel) != std::string::npos) return static_cast<int>(i);
    }
    return -1;
  }

  std::string unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (out.size() > kMaxBodyBytes || generated_ > kMaxGeneratedBytes) break;
      if (s[i] != '\\' || i + 1 >= s.size()) {
        out.push_back(s[i]);
        continue;
      }
      const char e = s[++i];
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case '0': out.push_back('\0'); break;
        case 'x': {
          const std::string hex = s.substr(i + 1, 2);
          char* end = nullptr;
          const long v = std::strtol(hex.c_str(), &end, 16);
          if (hex.size() == 2 && end == hex.c_str() + 2) {
            out.push_back(static_cast<char>(v));
            i += 2;
          } else {
            out.push_back('x');
          }
          break;
        }
        case '*': {
          std::size_t j = i + 1;
          std::size_t n = 0;
          while (j < s.size() && s[j] >= '0' && s[j] <= '9' && n <= kMaxBodyBytes)
            n = n * 10 + static_cast<std::size_t>(s[j++] - '0');
          if (j >= s.size()) break;
          n = std::min(n, kMaxBodyBytes - std::min(kMaxBodyBytes, out.size()));
          n = std::min(n, kMaxGeneratedBytes - std::min(kMaxGeneratedBytes, generated_));
          out.append(n, s[j]);
          generated_ += n;
          i = j;
          break;
        }
        default: out.push_back(e); break;
      }
    }
    return out;
  }

  std::string jwtFor(const std::string& spec) {
    const long long ttl = parseInt(spec, -1000000000LL, 1000000000LL, 900);
    const long long n = ++counter_;
    const long long exp = static_cast<long long>(scheduler_.now / 1000) + ttl;
    return makeJwt(R"({"sub":"u)" + std::to_string(n) + R"(","n":)" + std::to_string(n) + R"(,"exp":)" +
                   std::to_string(exp) + "}");
  }

  std::string body(const std::string& spec) {
    if (spec.empty() || spec[0] != '@') return unescape(spec);
    const auto colon = spec.find(':');
    const std::string name = spec.substr(1, colon == std::string::npos ? std::string::npos : colon - 1);
    const std::string arg = colon == std::string::npos ? std::string() : spec.substr(colon + 1);
    if (name == "login" || name == "ologin") {
      const std::string access = name == "login" ? jwtFor(arg) : "atok-" + std::to_string(++counter_);
      const std::string n = std::to_string(++counter_);
      return R"({"access_token":")" + access + R"(","refresh_token":"rtok-)" + n +
             R"(","token_type":"bearer","user":{"id":"u)" + n + R"(","email":"u)" + n + R"(@test.com"}})";
    }
    if (name == "refresh" || name == "orefresh") {
      const std::string access = name == "refresh" ? jwtFor(arg) : "atok-" + std::to_string(++counter_);
      return R"({"access_token":")" + access + R"(","refresh_token":"rtok-)" + std::to_string(++counter_) + R"("})";
    }
    if (name == "csrf") return R"({"csrf_token":"ctok-)" + std::to_string(++counter_) + R"("})";
    if (name == "csrfbad") return R"({"detail":"CSRF token invalid","code":"csrf_invalid"})";
    if (name == "detail") return R"({"detail":"nope"})";
    if (name == "empty") return "";
    return unescape(spec);
  }

  // ------------------------------------------------------------ calls

  std::size_t track(Track::Kind kind) {
    Track t;
    t.kind = kind;
    t.beforeDispose = !disposed_;
    t.generation = session_->generation();
    t.reactions = reactionsRun_;
    tracks_.push_back(t);
    return tracks_.size() - 1;
  }

  void settled(std::size_t index) {
    Track& t = tracks_[index];
    trace("settled #" + std::to_string(index));
    FUZZ_CHECK(++t.settled == 1, "a callback settled twice");
    FUZZ_CHECK(!t.cancelled, "a cancelled request was delivered");
    FUZZ_CHECK(!(disposed_ && t.beforeDispose), "a callback ran after dispose() returned");
  }

  void login(const std::string& email, const std::string& password) {
    const std::size_t index = track(Track::Login);
    // A login starts a new session's CSRF (unless it is refused outright).
    if (!session_->disposed() && !email.empty() && !password.empty()) killCsrf();
    session_->login(email, password, [this, index](const LoginOutcome& o) {
      settled(index);
      const Track& t = tracks_[index];
      trace("login #" + std::to_string(index) + (o.success ? " success " + o.userJson : " failed: " + o.code));
      FUZZ_CHECK(o.success == o.code.empty(), "login outcome success/code mismatch: " + o.code);
      if (!o.success) {
        FUZZ_CHECK(knownCode(o.code), "unknown login code " + o.code);
        return;
      }
      FUZZ_CHECK(parseJson(o.userJson).is_object(), "login user is not an object");
      if (reactionsRun_ == t.reactions) {
        FUZZ_CHECK(session_->generation() == t.generation + 1, "login succeeded across a session change");
        if (!store_.blocked) FUZZ_CHECK(session_->isAuthenticated(), "login succeeded but not authenticated");
      }
    });
  }

  void logout() {
    const std::size_t index = track(Track::Logout);
    session_->logout([this, index](const LogoutOutcome& o) {
      settled(index);
      trace("logout #" + std::to_string(index) + (o.backendNotified ? " backend notified" : " backend not notified"));
      FUZZ_CHECK(!o.backendNotified || logoutAccepted_ > 0, "backendNotified without a 2xx logout answer");
    });
  }

  void request(const std::string& method, const std::string& target, const std::string& requestBody) {
    const std::size_t index = track(Track::Request);
    tracks_[index].url = resolveTarget(config_.apiBase, config_.apiOrigin, target).url;
    RequestOptions options;
    options.headers = std::move(headers_);
    headers_.clear();
    if (!requestBody.empty()) {
      options.body = requestBody;
      options.hasBody = true;
      options.contentType = "application/json";
    }
    const uint64_t call = session_->request(method, target, std::move(options), [this, index](const RequestOutcome& o) {
      settled(index);
      const Track& t = tracks_[index];
      trace("request #" + std::to_string(index) + " " +
            (o.code.empty() ? "HTTP " + std::to_string(o.response.status) : o.code));
      if (!o.code.empty()) {
        FUZZ_CHECK(knownCode(o.code), "unknown request code " + o.code);
        return;
      }
      FUZZ_CHECK(session_->generation() == t.generation, "a response delivered into another session");
      FUZZ_CHECK(answered_.count(answerKey(t.url, o.response.status, o.response.body)) == 1,
                 "a request got a response that was not an answer to its URL " + t.url);
    });
    tracks_[index].call = call;
  }

  // `which`: "#<id>" names a pipeline call by its id (any call, the
  // session's own included); else the n-th request issued.
  void cancel(const std::string& which) {
    if (!which.empty() && which[0] == '#') {
      const auto id = static_cast<uint64_t>(parseInt(which.substr(1), 0, 1000000, 0));
      for (Track& t : tracks_) {
        if (t.kind == Track::Request && t.call == id && t.settled == 0 && !session_->disposed()) t.cancelled = true;
      }
      trace("cancel call " + std::to_string(id));
      session_->cancel(id);
      return;
    }
    std::vector<std::size_t> requests;
    for (std::size_t i = 0; i < tracks_.size(); ++i) {
      if (tracks_[i].kind == Track::Request) requests.push_back(i);
    }
    if (requests.empty()) return;
    Track& t = tracks_[requests[static_cast<std::size_t>(parseInt(which, 0, 1000000, 0)) % requests.size()]];
    if (t.settled == 0 && t.call != 0 && !session_->disposed()) t.cancelled = true;
    trace("cancel call " + std::to_string(t.call));
    session_->cancel(t.call);
  }

  void resetCsrf() {
    killCsrf();
    session_->resetCsrfToken();
  }

  void dispose() { session_->dispose(); }

  void inspect() {
    const bool authenticated = session_->isAuthenticated();
    const std::string user = session_->userJson();
    FUZZ_CHECK(user == "null" || parseJson(user).is_object(), "userJson is neither null nor an object: " + user);
    if (session_->disposed()) FUZZ_CHECK(!authenticated && user == "null", "a disposed session reports a user");
  }

  // ------------------------------------------------------------ listeners

  void onEvent(const std::string& name, const std::string& detail) {
    trace("event " + name + " " + detail);
    const Json d = parseJson(detail);
    FUZZ_CHECK(d.is_object() && d.contains("timestamp") && d["timestamp"].is_number_integer(),
               "event detail malformed: " + detail);
    if (name == "auth:logout") {
      // (Storage that throws on every call cannot be cleared by anyone; after
      // a logout in another tab, shared storage is that tab's to clear.)
      const bool remote = d.contains("reason") && d["reason"] == "remote";
      for (const char* key : {"access_token", "refresh_token", "cleanslate_user"}) {
        FUZZ_CHECK(store_.blocked || remote || store_.values.count(key) == 0,
                   std::string("auth:logout fired with ") + key + " in storage");
      }
      FUZZ_CHECK(!session_->isAuthenticated() && session_->userJson() == "null",
                 "auth:logout fired while still authenticated");
      // Everything issued so far belongs to the ended session.
      for (auto& entry : minted_) entry.second = true;
      killCsrf();
      ++deaths_;
    } else if (name == "auth:login") {
      FUZZ_CHECK(d.contains("user") && d["user"].is_object(), "auth:login without a user");
      // The session that just began holds only the tokens of this answer.
      for (auto& entry : minted_) {
        if (!answering_.count(entry.first)) entry.second = true;
      }
      ++deaths_;
    } else {
      FUZZ_CHECK(name == "auth:refresh", "unknown event " + name);
    }
    const auto it = reactions_.find(name);
    if (it == reactions_.end()) return;
    const char action = it->second;
    reactions_.erase(it);  // once: a listener that always logs out on logout would recurse forever
    ++reactionsRun_;
    switch (action) {
      case 'd': dispose(); break;
      case 'o': logout(); break;
      case 'l': login("b@test.com", "pw"); break;
      case 'r': request("GET", "/reacted", ""); break;
      case 'p': request("POST", "/reacted", "{}"); break;
      case 'c': resetCsrf(); break;
      case 's': session_->resetApiState(); break;
      default: break;
    }
  }

  // ------------------------------------------------------------ transport side

  static std::string answerKey(const std::string& url, int status, const std::string& b) {
    return url + '\n' + std::to_string(status) + '\n' + std::to_string(std::hash<std::string>{}(b)) + ':' +
           std::to_string(b.size());
  }

  void mint(const std::string& token, bool alive) {
    if (token.empty() || token.rfind("caller:", 0) == 0) return;
    minted_[token] = !alive;
  }
  void killCsrf() {
    for (auto& entry : csrfMinted_) entry.second = true;
  }

  // Every answer, asynchronous or synchronous: record it and its tokens.
  void recordAnswer(const PendingRequest& p, const HttpResponse& response) {
    trace("answer " + p.request.url + ": " +
          (response.error != TransportError::None ? "transport error"
                                                  : std::to_string(response.status) + " " + response.body));
    if (response.error != TransportError::None) return;
    answered_.insert(answerKey(p.request.url, response.status, response.body));
    if (p.request.url.find(config_.logoutPath) != std::string::npos && response.status >= 200 &&
        response.status < 300) {
      ++logoutAccepted_;
    }
    answering_.clear();
    const Json b = parseJson(response.body);
    std::string value;
    // A token answered to a request sent before a session ended is dead on arrival.
    const bool alive = p.tag == deaths_;
    if (stringField(b, "access_token", &value)) {
      mint(value, alive);
      answering_.insert(value);
    }
    if (stringField(b, "refresh_token", &value)) {
      mint(value, alive);
      answering_.insert(value);
    }
    if (stringField(b, "csrf_token", &value) && value.rfind("caller:", 0) != 0) csrfMinted_[value] = false;
  }

  // The answer queued by a Y line, if any, for a request inside send().
  std::optional<HttpResponse> syncAnswer() {
    if (syncQueue_.empty()) return std::nullopt;
    const auto spec = syncQueue_.front();
    syncQueue_.erase(syncQueue_.begin());
    HttpResponse out;
    if (spec.first < 0) {
      out.error = spec.second == "timeout" ? TransportError::Timeout : TransportError::Network;
    } else {
      out.status = spec.first;
      out.body = body(spec.second);
    }
    return out;
  }

  bool dead(const std::string& token) const {
    if (foreign_) return false;
    const auto it = minted_.find(token);
    return it != minted_.end() && it->second;
  }

  void onSend(const HttpRequest& r) {
    transport_.tag = deaths_;
    if (tracing()) {
      std::string line =
          "send @" + std::to_string(static_cast<long long>(scheduler_.now - 1.7e12)) + "ms " + r.method + " " + r.url;
      for (const auto& h : r.headers) line += " | " + h.first + ": " + h.second;
      trace(line);
    }
    const auto key = fuzzcheck::browserOrigin(r.url);
    const bool same = key && *key == apiKey_;
    int authorizations = 0;
    bool hasCsrf = false;
    for (const auto& h : r.headers) {
      FUZZ_CHECK(isHeaderName(h.first), "invalid header name sent: " + h.first);
      FUZZ_CHECK(h.second.find_first_of(std::string("\r\n\0", 3)) == std::string::npos,
                 "header value with CR/LF/NUL sent: " + h.first);
      const bool isAuth = iequals(h.first, "Authorization");
      const bool isCsrf = iequals(h.first, config_.csrfHeader);
      authorizations += isAuth;
      if (isAuth && h.second.rfind("Bearer ", 0) == 0) {
        const std::string token = h.second.substr(7);
        FUZZ_CHECK(!minted_.count(token) || same, "an access token sent to another origin: " + r.url);
        FUZZ_CHECK(!dead(token), "an ended session's access token sent to " + r.url);
      }
      if (isCsrf && csrfMinted_.count(h.second)) {
        FUZZ_CHECK(same, "a CSRF token sent to another origin: " + r.url);
        FUZZ_CHECK(!csrfMinted_[h.second], "a CSRF token of an ended session or reset cache sent to " + r.url);
      }
      hasCsrf = hasCsrf || (isCsrf && !h.second.empty());
      if (!same) FUZZ_CHECK(!minted_.count(h.second), "a token sent to another origin in " + h.first);
    }
    if (same) FUZZ_CHECK(authorizations <= 1, "more than one Authorization header on apiBase");
    // Where the core itself reads the apiBase origin (a URL it cannot read
    // counts as another origin and gets nothing: fail closed), an unsafe
    // request carries a CSRF token.
    const auto coreOrigin = parseOrigin(r.url);
    if (same && coreOrigin && *coreOrigin == config_.apiOrigin) {
      const bool unsafe = r.method == "POST" || r.method == "PUT" || r.method == "PATCH" || r.method == "DELETE";
      FUZZ_CHECK(!unsafe || hasCsrf, "an unsafe request to apiBase without a CSRF token: " + r.method + " " + r.url);
    }
    if (r.method == "POST" && endsWith(r.url, config_.refreshPath)) {
      std::string refresh;
      if (stringField(parseJson(r.body), "refresh_token", &refresh)) {
        FUZZ_CHECK(!dead(refresh), "an ended session's refresh token sent to " + r.url);
      }
    }
  }

  // No token of an ended session is ever written back.
  void onStore(const std::string& key, const std::string& value) {
    if (key == "access_token" || key == "refresh_token") {
      FUZZ_CHECK(!dead(value), "an ended session's " + key + " written back to storage");
    }
  }

  void finish() {
    reactions_.clear();
    syncQueue_.clear();
    const double horizon = std::max(config_.requestTimeoutMs, config_.logoutTimeoutMs) + 1.0;
    scheduler_.budget = kTimerBudget;  // timers held back by the budget run now, late
    // The app's reset work ends (a bound the JS entry keeps); a login it
    // releases may start another (a listener's), so a few rounds.
    for (int round = 0; round < 8 && !reset_.held.empty(); ++round) reset_.settle();
    scheduler_.advance(horizon);
    for (int round = 0; round < 8 && !reset_.held.empty(); ++round) reset_.settle();
    for (const Track& t : tracks_) {
      FUZZ_CHECK(t.settled == 1 || t.cancelled, "a callback never settled although every timeout has passed");
    }
    dispose();
    for (const Track& t : tracks_) FUZZ_CHECK(t.settled == (t.cancelled ? 0 : 1), "a callback settled after the end");
    session_.reset();
  }

  Config config_;
  std::string apiKey_;
  FakeTransport transport_;
  FakeStore store_;
  FakeEvents events_;
  FakeScheduler scheduler_;
  FakeLog log_;
  FakeReset reset_;
  std::unique_ptr<Session> session_;

  std::vector<Track> tracks_;
  Headers headers_;
  std::vector<std::pair<int, std::string>> syncQueue_;
  std::map<std::string, char> reactions_;
  std::size_t reactionsRun_ = 0;
  bool disposed_ = false;
  bool foreign_ = false;  // another tab has spoken (M)
  std::set<std::string> answered_;
  std::map<std::string, bool> minted_;      // access/refresh token -> dead
  std::map<std::string, bool> csrfMinted_;  // CSRF token -> dead
  std::set<std::string> answering_;         // tokens of the answer being delivered
  uint64_t deaths_ = 0;                     // session ends and replacements so far
  std::size_t logoutAccepted_ = 0;
  long long counter_ = 0;
  std::size_t generated_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::vector<std::string> lines;
  std::string current;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      lines.push_back(current);
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  lines.push_back(current);
  std::size_t configIndex = 0;
  if (!lines.empty() && lines[0].size() >= 3 && lines[0][0] == 'K') {
    configIndex = static_cast<std::size_t>(parseInt(lines[0].substr(2), 0, 3, 0));
    lines.erase(lines.begin());
  }
  Runner runner(configIndex);
  runner.run(lines);
  return 0;
}
