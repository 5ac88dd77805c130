// The interleaving property test: seeded random schedules of logins,
// requests, 401s, refresh outcomes, proactive timers, logouts and disposal,
// where a fake backend answers pending requests in an order the schedule
// picks. After every step it checks that nothing survives a session:
//  (1) once a session has ended, none of its tokens is in storage or in any
//      later request header (the logout notice's body excepted);
//  (2) no request resolves with data of a session other than the one that
//      issued it, nor after that session ended;
//  (3) at most one refresh is in flight;
//  (4) every request settles exactly once;
//  (5) a CSRF token of an ended session is never sent again.
// A failing schedule prints its seed; CLEANSLATE_SEED=<n> replays only it,
// CLEANSLATE_SCHEDULES=<n> changes how many run.
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>
#include <set>
#include <sstream>

#include "fakes.h"

using namespace cleanslate;
using cleanslate::testing::FakeEvents;
using cleanslate::testing::FakeLog;
using cleanslate::testing::FakeScheduler;
using cleanslate::testing::FakeStore;
using cleanslate::testing::FakeTransport;
using cleanslate::testing::makeJwt;

namespace {

struct TokenInfo {
  int sid;
  bool access;
};

struct Call {
  int issuedSid;  // the session current when the caller issued it
  int settledCount = 0;
  RequestOutcome outcome;
};

class Schedule {
 public:
  explicit Schedule(uint64_t seed) : rng_(seed) {
    ConfigResult parsed = parseConfig(
        R"({"apiBase":"https://api.test/v1","logLevel":"silent","requestTimeoutMs":5000,"logoutTimeoutMs":1000,"refreshLeewaySec":5})");
    REQUIRE(parsed.error.empty());
    transport_.onSend = [this](const HttpRequest& r) { onSend(r); };
    events_.onEvent = [this](const std::string& name, const std::string& detail) { onEvent(name, detail); };
    session_ = std::make_unique<Session>(parsed.config, Platform{&transport_, &store_, &events_, &scheduler_, &log_});
  }

  // Runs `steps` random steps, then drains; returns "" or the first violation.
  std::string run(int steps) {
    for (int i = 0; i < steps && violation_.empty() && !disposed_; ++i) step();
    if (violation_.empty() && !disposed_) drain();
    checkState();
    if (violation_.empty()) {
      for (std::size_t i = 0; i < calls_.size(); ++i) {
        if (calls_[i]->settledCount != 1) {
          fail("request " + std::to_string(i) + " settled " + std::to_string(calls_[i]->settledCount) + " times");
          break;
        }
      }
    }
    return violation_;
  }

  std::size_t stepsTaken() const { return trace_.size(); }
  std::string trace() const {
    std::ostringstream out;
    for (const auto& t : trace_) out << "  " << t << "\n";
    return out.str();
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool chance(int percent) { return pick(100) < percent; }

  void fail(const std::string& what) {
    if (violation_.empty()) violation_ = what;
  }

  // ------------------------------------------------------------ the schedule

  void step() {
    const int r = pick(100);
    if (r < 6) {
      const std::string user = chance(50) ? "a" : "b";
      trace_.push_back("login " + user);
      const int attempt = ++loginAttempts_;
      loginStartCsrf_[attempt] = csrfIssued_;
      pendingLogin_ = attempt;
      session_->login(user + "@test.com", "pw", [](const LoginOutcome&) {});
    } else if (r < 10) {
      trace_.push_back("logout");
      session_->logout(nullptr);
    } else if (r < 30) {
      const bool unsafe = chance(40);
      trace_.push_back(unsafe ? "POST /data" : "GET /data");
      auto call = std::make_shared<Call>();
      call->issuedSid = currentSid_;
      calls_.push_back(call);
      RequestOptions options;
      if (unsafe) {
        options.body = "{}";
        options.hasBody = true;
        options.contentType = "application/json";
      }
      const int sid = currentSid_;
      session_->request(unsafe ? "POST" : "GET", "/data", options, [this, call, sid](const RequestOutcome& o) {
        call->settledCount++;
        call->outcome = o;
        if (o.code.empty() && o.response.status == 200) {
          const Json body = parseJson(o.response.body);
          const int dataSid =
              body.is_object() && body.contains("sid") && body["sid"].is_number_integer() ? body["sid"].get<int>() : -2;
          if (dataSid != sid)
            fail("request issued in session " + std::to_string(sid) + " got data of " + std::to_string(dataSid));
          if (currentSid_ != sid)
            fail("request issued in session " + std::to_string(sid) + " resolved with data in session " +
                 std::to_string(currentSid_));
        }
      });
    } else if (r < 34) {
      trace_.push_back("expire access tokens");
      accessValidFrom_ = tokenCounter_ + 1;
    } else if (r < 40) {
      const int ms = chance(50) ? pick(2000) : pick(60000);
      trace_.push_back("advance " + std::to_string(ms) + " ms");
      scheduler_.advance(ms);
    } else if (r < 42) {
      trace_.push_back("resetCsrfToken");
      session_->resetCsrfToken();
    } else if (r < 44) {
      trace_.push_back("resetApiState");
      session_->resetApiState();
    } else if (r == 44 && chance(20)) {
      trace_.push_back("dispose");
      session_->dispose();
      disposed_ = true;
      for (const auto& call : calls_) {
        if (call->settledCount != 1) fail("a request was left unsettled by dispose()");
      }
    } else if (!transport_.pending.empty()) {
      answer(static_cast<std::size_t>(pick(static_cast<int>(transport_.pending.size()))));
    }
    checkState();
  }

  void drain() {
    trace_.push_back("drain: logout, answer everything, run every timer");
    session_->logout(nullptr);
    for (int guard = 0; guard < 1000; ++guard) {
      if (!transport_.pending.empty()) {
        answer(0);
      } else if (!scheduler_.runNext()) {
        break;
      }
      checkState();
    }
  }

  // ------------------------------------------------------------ the fake backend

  std::string issue(int sid, bool access) {
    const int n = ++tokenCounter_;
    std::string token;
    if (access) {
      // A JWT with exp, so the proactive timer is part of the schedule.
      token = makeJwt(R"({"sid":)" + std::to_string(sid) + R"(,"n":)" + std::to_string(n) + R"(,"exp":)" +
                      std::to_string(static_cast<long long>(scheduler_.now / 1000) + 60) + "}");
    } else {
      token = "refresh-" + std::to_string(sid) + "-" + std::to_string(n);
      currentRefresh_[sid] = token;
    }
    tokens_[token] = {sid, access};
    tokenSerial_[token] = n;
    return token;
  }

  static std::string header(const HttpRequest& r, const std::string& name) {
    for (const auto& h : r.headers) {
      if (h.first == name) return h.second;
    }
    return {};
  }

  void answer(std::size_t index) {
    const HttpRequest request = transport_.pending[index].request;
    const std::string& url = request.url;
    auto ends = [&](const char* suffix) {
      const std::string s(suffix);
      return url.size() >= s.size() && url.compare(url.size() - s.size(), s.size(), s) == 0;
    };
    const int roll = pick(100);
    if (roll < 5) {
      trace_.push_back("network error for " + request.method + " " + url);
      transport_.fail(index);
      return;
    }
    if (ends("/auth/csrf")) {
      if (roll < 10) {
        trace_.push_back("csrf 503");
        transport_.reply(index, 503, "");
        return;
      }
      const std::string token = "csrf-" + std::to_string(++csrfIssued_);
      trace_.push_back("csrf 200 " + token);
      transport_.reply(index, 200, R"({"csrf_token":")" + token + R"("})");
    } else if (ends("/auth/login")) {
      const int attempt = pendingLogin_;
      if (roll < 15) {
        trace_.push_back("login 401");
        transport_.reply(index, 401, R"({"detail":"Invalid credentials"})");
        return;
      }
      const int sid = ++sidCounter_;
      answeringLoginAttempt_ = attempt;
      const std::string access = issue(sid, true);
      const std::string refresh = issue(sid, false);
      trace_.push_back("login 200 session " + std::to_string(sid));
      loginResponseSid_ = sid;
      transport_.reply(index, 200,
                       R"({"access_token":")" + access + R"(","refresh_token":")" + refresh + R"(","user":{"id":)" +
                           std::to_string(sid) + "}}");
      loginResponseSid_ = -1;
    } else if (ends("/auth/refresh")) {
      const Json body = parseJson(request.body);
      std::string presented;
      stringField(body, "refresh_token", &presented);
      const auto info = tokens_.find(presented);
      if (info == tokens_.end() || revoked_.count(info->second.sid) != 0 || roll < 12) {
        trace_.push_back("refresh 401");
        transport_.reply(index, 401, R"({"detail":"refused"})");
        return;
      }
      const int sid = info->second.sid;
      if (currentRefresh_[sid] != presented) {
        trace_.push_back("refresh 401 (reuse: family revoked)");
        revoked_.insert(sid);
        transport_.reply(index, 401, R"({"detail":"reused"})");
        return;
      }
      if (roll < 20) {
        trace_.push_back("refresh 503");
        transport_.reply(index, 503, "");
        return;
      }
      const std::string access = issue(sid, true);
      const std::string refresh = issue(sid, false);
      trace_.push_back("refresh 200 session " + std::to_string(sid));
      transport_.reply(index, 200, R"({"access_token":")" + access + R"(","refresh_token":")" + refresh + R"("})");
    } else if (ends("/auth/logout")) {
      const Json body = parseJson(request.body);
      std::string presented;
      stringField(body, "refresh_token", &presented);
      const auto info = tokens_.find(presented);
      if (info != tokens_.end()) revoked_.insert(info->second.sid);
      trace_.push_back("logout 200");
      transport_.reply(index, 200, R"({"message":"Logout successful"})");
    } else {
      const std::string auth = header(request, "Authorization");
      const std::string token = auth.size() > 7 ? auth.substr(7) : "";
      const auto info = tokens_.find(token);
      const bool valid = info != tokens_.end() && info->second.access && tokenSerial_[token] >= accessValidFrom_;
      if (!valid) {
        trace_.push_back("data 401");
        transport_.reply(index, 401, R"({"detail":"expired"})");
      } else if (request.method == "POST" && roll < 12) {
        trace_.push_back("data 403 csrf_invalid");
        transport_.reply(index, 403, R"({"detail":"bad csrf","code":"csrf_invalid"})");
      } else {
        trace_.push_back("data 200 session " + std::to_string(info->second.sid));
        transport_.reply(index, 200, R"({"sid":)" + std::to_string(info->second.sid) + "}");
      }
    }
  }

  // ------------------------------------------------------------ invariants

  void onEvent(const std::string& name, const std::string& detail) {
    if (name == "auth:login") {
      const Json d = parseJson(detail);
      const int sid = d["user"]["id"].get<int>();
      if (sid != loginResponseSid_)
        fail("auth:login for session " + std::to_string(sid) + " outside its own login response");
      currentSid_ = sid;
      // CSRF tokens issued before this login started belong to ended sessions.
      csrfDeadBelow_ = std::max(csrfDeadBelow_, loginStartCsrf_[answeringLoginAttempt_] + 1);
    } else if (name == "auth:logout") {
      currentSid_ = -1;
      csrfDeadBelow_ = csrfIssued_ + 1;
    }
  }

  void onSend(const HttpRequest& r) {
    const bool logoutNotice = r.url.find("/auth/logout") != std::string::npos;
    const std::string auth = header(r, "Authorization");
    if (!auth.empty()) {
      const auto info = tokens_.find(auth.substr(7));
      if (info == tokens_.end() || info->second.sid != currentSid_) {
        fail("(1) a request carried the access token of session " +
             std::to_string(info == tokens_.end() ? -2 : info->second.sid) + " during session " +
             std::to_string(currentSid_));
      }
    }
    if (!logoutNotice) {
      std::string presented;
      if (stringField(parseJson(r.body), "refresh_token", &presented)) {
        const auto info = tokens_.find(presented);
        if (info == tokens_.end() || info->second.sid != currentSid_) {
          fail("(1) a refresh sent the refresh token of another session");
        }
      }
    }
    const std::string csrf = header(r, "X-CSRF-Token");
    if (!csrf.empty() && !logoutNotice) {
      const int k = std::atoi(csrf.c_str() + 5);
      if (k < csrfDeadBelow_) fail("(5) CSRF token " + csrf + " of an ended session was sent again");
    }
  }

  void checkState() {
    for (const char* key : {"access_token", "refresh_token"}) {
      const auto it = store_.values.find(key);
      if (it == store_.values.end()) continue;
      const auto info = tokens_.find(it->second);
      if (info == tokens_.end() || info->second.sid != currentSid_) {
        fail(std::string("(1) storage holds a ") + key + " of a session that is not the current one");
      }
    }
    int refreshes = 0;
    for (const auto& p : transport_.pending) refreshes += p.request.url.find("/auth/refresh") != std::string::npos;
    if (refreshes > 1) fail("(3) " + std::to_string(refreshes) + " refreshes in flight");
    for (const auto& call : calls_) {
      if (call->settledCount > 1) fail("(4) a request settled more than once");
    }
  }

  std::mt19937_64 rng_;
  FakeTransport transport_;
  FakeStore store_;
  FakeEvents events_;
  FakeScheduler scheduler_;
  FakeLog log_;
  std::unique_ptr<Session> session_;
  bool disposed_ = false;
  std::string violation_;
  std::vector<std::string> trace_;
  std::vector<std::shared_ptr<Call>> calls_;

  int currentSid_ = -1;
  int sidCounter_ = 0;
  int tokenCounter_ = 0;
  int accessValidFrom_ = 0;
  std::map<std::string, TokenInfo> tokens_;
  std::map<std::string, int> tokenSerial_;
  std::map<int, std::string> currentRefresh_;
  std::set<int> revoked_;
  int csrfIssued_ = 0;
  int csrfDeadBelow_ = 0;
  int loginAttempts_ = 0;
  int pendingLogin_ = 0;
  int answeringLoginAttempt_ = 0;
  int loginResponseSid_ = -1;
  std::map<int, int> loginStartCsrf_;
};

uint64_t envNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtoull(value, nullptr, 10) : fallback;
}

}  // namespace

TEST_CASE("interleaving property: nothing survives a session, over seeded random schedules") {
  const uint64_t only = envNumber("CLEANSLATE_SEED", 0);
  const uint64_t count = only != 0 ? 1 : envNumber("CLEANSLATE_SCHEDULES", 10000);
  uint64_t steps = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t seed = only != 0 ? only : i + 1;
    Schedule schedule(seed);
    const std::string violation = schedule.run(80);
    steps += schedule.stepsTaken();
    if (!violation.empty()) {
      FAIL_CHECK("seed " << seed << ": " << violation << "\nreplay with CLEANSLATE_SEED=" << seed << "\nschedule:\n"
                         << schedule.trace());
      break;
    }
  }
  MESSAGE("interleaving: " << count << " schedules, " << steps << " steps");
  CHECK(steps > count * 40);
}
