// The session core driven through fakes: login, logout order, header rules,
// CSRF single flight and retry, refresh and the generation guard.
#include <doctest/doctest.h>

#include "fakes.h"

using namespace cleanslate;
using cleanslate::testing::Harness;

namespace {

struct Result {
  bool done = false;
  RequestOutcome outcome;
};

std::shared_ptr<Result> get(Harness& h, const std::string& path, const std::string& method = "GET") {
  auto result = std::make_shared<Result>();
  RequestOptions options;
  if (method != "GET") {
    options.body = "{}";
    options.hasBody = true;
    options.contentType = "application/json";
  }
  h.session->request(method, path, options, [result](const RequestOutcome& o) {
    CHECK_FALSE(result->done);  // settles exactly once
    result->done = true;
    result->outcome = o;
  });
  return result;
}

}  // namespace

TEST_CASE("login stores tokens, fires auth:login and logs the contract's lines") {
  Harness h;
  LoginOutcome outcome;
  h.session->login("a@test.com", "pw", [&](const LoginOutcome& o) { outcome = o; });
  REQUIRE(h.transport.pending.size() == 1);
  CHECK(h.transport.pending[0].request.url == "https://api.example.com/api/v1/auth/csrf");
  h.transport.replyTo("/auth/csrf", 200, R"({"csrf_token":"c1"})");
  REQUIRE(h.transport.find("/auth/login") == 0);
  const HttpRequest login = h.transport.pending[0].request;
  CHECK(Harness::header(login, "X-CSRF-Token") == "c1");
  CHECK(Harness::header(login, "Authorization").empty());
  CHECK(Harness::header(login, "Content-Type") == "application/json");
  CHECK(parseJson(login.body)["email"] == "a@test.com");
  h.transport.replyTo("/auth/login", 200, h.loginBody("a", "acc", "ref"));
  CHECK(outcome.success);
  CHECK(h.store.values["access_token"] == "acc");
  CHECK(h.store.values["refresh_token"] == "ref");
  CHECK(h.session->isAuthenticated());
  CHECK(parseJson(h.session->userJson())["id"] == "a");
  REQUIRE(h.events.fired.size() == 1);
  CHECK(h.events.fired[0].first == "auth:login");
  CHECK(parseJson(h.events.fired[0].second)["user"]["email"] == "a@test.com");
  CHECK(parseJson(h.events.fired[0].second)["timestamp"].is_number_integer());
  CHECK(h.log.texts() == std::vector<std::string>{"[Auth] Attempting login for: a@test.com",
                                                  "[CSRF] Fetching fresh token for new session",
                                                  "[Auth] Login successful, storing tokens"});
}

TEST_CASE("login failures give codes and store nothing") {
  Harness h;
  struct Case {
    int status;
    std::string body;
    std::string code;
  };
  for (const Case& c : {Case{401, R"({"detail":"Invalid credentials"})", "invalid_credentials"},
                        Case{429, R"({"detail":"slow down"})", "rate_limited"}, Case{500, "oops", "server_error"},
                        Case{418, "{}", "http_error"}, Case{200, "not json", "bad_response"},
                        Case{200, R"({"access_token":"a"})", "bad_response"},
                        Case{200, R"({"access_token":"a","refresh_token":"r","user":"x"})", "bad_response"},
                        Case{200, R"({"access_token":"a\nb","refresh_token":"r","user":{}})", "bad_response"}}) {
    CAPTURE(c.body);
    LoginOutcome outcome;
    h.session->login("a@test.com", "pw", [&](const LoginOutcome& o) { outcome = o; });
    h.transport.replyTo("/auth/csrf", 200, R"({"csrf_token":"c"})");
    h.transport.replyTo("/auth/login", c.status, c.body);
    CHECK_FALSE(outcome.success);
    CHECK(outcome.code == c.code);
    CHECK(h.store.values.empty());
  }
  LoginOutcome outcome;
  h.session->login("a@test.com", "pw", [&](const LoginOutcome& o) { outcome = o; });
  h.transport.fail(0);
  CHECK(outcome.code == "network");
}

TEST_CASE("logout: reset CSRF, reset API state, clear tokens, fire the event, then notify the backend") {
  Harness h;
  h.loginAs("a");
  auto inFlight = get(h, "/user/profile");
  h.log.lines.clear();
  bool eventSawCleanState = false;
  std::size_t sentBeforeEvent = 0;
  h.events.onEvent = [&](const std::string& name, const std::string& detail) {
    if (name != "auth:logout") return;
    eventSawCleanState = h.store.values.empty() && !h.session->isAuthenticated() && h.session->userJson() == "null" &&
                         inFlight->done && parseJson(detail)["reason"] == "user";
    sentBeforeEvent = h.transport.sent.size();
  };
  const std::size_t sentBeforeLogout = h.transport.sent.size();
  bool notified = false;
  bool finished = false;
  h.session->logout([&](const LogoutOutcome& o) {
    finished = true;
    notified = o.backendNotified;
  });
  CHECK(eventSawCleanState);
  CHECK(sentBeforeEvent == sentBeforeLogout);  // no network I/O before the event
  CHECK(inFlight->outcome.code == "session_changed");
  CHECK_FALSE(finished);
  REQUIRE(h.transport.replyTo("/auth/csrf", 200, R"({"csrf_token":"fresh"})"));
  const int i = h.transport.find("/auth/logout");
  REQUIRE(i >= 0);
  const HttpRequest notice = h.transport.pending[static_cast<std::size_t>(i)].request;
  CHECK(parseJson(notice.body)["refresh_token"] == "refresh-a");
  CHECK(Harness::header(notice, "X-CSRF-Token") == "fresh");
  CHECK(Harness::header(notice, "Authorization").empty());
  h.transport.reply(static_cast<std::size_t>(i), 200, R"({"message":"Logout successful"})");
  CHECK(finished);
  CHECK(notified);
  CHECK(h.log.texts() == std::vector<std::string>{"[Auth] Logging out", "[CSRF] Token cache reset for new session",
                                                  "[API] Interceptor state reset for new session",
                                                  "[Auth] API state reset complete",
                                                  "[Auth] Tokens cleared from localStorage",
                                                  "[Auth] Backend logout notification successful"});
}

TEST_CASE("logout never waits past logoutTimeoutMs for a backend that hangs") {
  Harness h(R"(,"logoutTimeoutMs":500)");
  h.loginAs("a");
  bool finished = false;
  h.session->logout([&](const LogoutOutcome& o) {
    finished = true;
    CHECK_FALSE(o.backendNotified);
  });
  h.transport.replyTo("/auth/csrf", 200, R"({"csrf_token":"c"})");
  h.scheduler.advance(499);
  CHECK_FALSE(finished);
  h.scheduler.advance(1);
  CHECK(finished);
  CHECK(h.log.lines.back().first == LogLevel::Warn);
  CHECK(h.log.lines.back().second.rfind("[Auth] Backend notification failed (non-critical): ", 0) == 0);
  // The late answer is harmless.
  if (h.transport.find("/auth/logout") >= 0) h.transport.replyTo("/auth/logout", 200, "{}");
}

TEST_CASE("absolute targets the core cannot read with certainty are refused, not sent") {
  Harness h;
  h.loginAs("a");
  // A browser may read each of these as apiBase (it strips control
  // characters, reads '\\' as '/', drops userinfo), so the caller's own
  // headers would reach apiBase unchecked: nothing is sent.
  const std::string targets[] = {"https://api.example.com@evil.test/x",
                                 std::string("https://api.example.com/\0x", 26),
                                 "https:\\\\api.example.com/x",
                                 "https://api.example.com /x",
                                 "//api.example.com%2f/x",
                                 "http:api.example.com/x"};
  for (const std::string& target : targets) {
    CAPTURE(target);
    const std::size_t before = h.transport.sent.size();
    auto r = get(h, target);
    REQUIRE(r->done);
    CHECK(r->outcome.code == code::kInvalidArgument);
    CHECK(h.transport.sent.size() == before);
  }
  // Other schemes and readable URLs of other origins still go out, without credentials.
  const std::size_t before = h.transport.sent.size();
  auto other = get(h, "https://other.test/x");
  REQUIRE(h.transport.sent.size() == before + 1);
  CHECK(h.transport.sent.back().url == "https://other.test/x");
  CHECK(Harness::header(h.transport.sent.back(), "Authorization").empty());
}

TEST_CASE("header rules by origin and method") {
  Harness h;
  h.loginAs("a");
  h.transport.autoReply = [](const HttpRequest& r) {
    HttpResponse response;
    response.status = r.url.find("/auth/csrf") != std::string::npos ? 200 : 204;
    response.body = R"({"csrf_token":"c2"})";
    return response;
  };
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}) {
    for (const char* target : {"/things", "https://api.example.com/elsewhere", "https://other.test/x",
                               "https://api.example.com.evil.test/x"}) {
      CAPTURE(method);
      CAPTURE(target);
      const std::size_t before = h.transport.sent.size();
      auto r = get(h, target, method);
      REQUIRE(r->done);
      const HttpRequest& sent = h.transport.sent.back();
      REQUIRE(h.transport.sent.size() > before);
      const bool same = std::string(target).rfind("https://api.example.com/", 0) == 0 || target[0] == '/';
      const bool unsafe = std::string(method) != "GET" && std::string(method) != "HEAD";
      CHECK(Harness::header(sent, "Authorization").empty() == !same);
      CHECK(Harness::header(sent, "X-CSRF-Token").empty() == !(same && unsafe));
      CHECK(Harness::header(sent, "Cache-Control").empty() == !same);
      if (same) {
        CHECK(Harness::header(sent, "Cache-Control") == "no-cache, no-store, must-revalidate");
        CHECK(Harness::header(sent, "Pragma") == "no-cache");
        CHECK(Harness::header(sent, "Expires") == "0");
      }
    }
  }
}

TEST_CASE("caller headers cannot override the session's own on apiBase, but pass elsewhere") {
  Harness h;
  h.loginAs("a");
  RequestOptions options;
  options.headers = {{"authorization", "Bearer forged"}, {"X-Trace", "1"}};
  h.session->request("GET", "/x", options, [](const RequestOutcome&) {});
  const HttpRequest& own = h.transport.sent.back();
  int authCount = 0;
  for (const auto& header : own.headers)
    authCount += header.first == "Authorization" || header.first == "authorization";
  CHECK(authCount == 1);
  CHECK(Harness::header(own, "Authorization").rfind("Bearer ey", 0) == 0);
  CHECK(Harness::header(own, "X-Trace") == "1");
  h.session->request("GET", "https://other.test/x", options, [](const RequestOutcome&) {});
  CHECK(Harness::header(h.transport.sent.back(), "authorization") == "Bearer forged");

  RequestOutcome bad;
  options.headers = {{"X-Bad", "a\r\nInjected: 1"}};
  h.session->request("GET", "/x", options, [&](const RequestOutcome& o) { bad = o; });
  CHECK(bad.code == "invalid_argument");
  h.session->request("TRACE", "/x", {}, [&](const RequestOutcome& o) { bad = o; });
  CHECK(bad.code == "invalid_argument");
}

TEST_CASE("CSRF: one fetch for many concurrent unsafe requests; 403 csrf_invalid retries once") {
  Harness h;
  h.loginAs("a");
  h.session->resetCsrfToken();
  std::vector<std::shared_ptr<Result>> results;
  for (int i = 0; i < 20; ++i) results.push_back(get(h, "/notes", "POST"));
  CHECK(h.transport.count("/auth/csrf") == 2);  // one at login, one now
  h.transport.replyTo("/auth/csrf", 200, R"({"csrf_token":"c-new"})");
  CHECK(h.transport.pending.size() == 20);
  for (const auto& p : h.transport.pending) CHECK(Harness::header(p.request, "X-CSRF-Token") == "c-new");
  while (!h.transport.pending.empty()) h.transport.reply(0, 201, "{}");
  for (const auto& r : results) CHECK(r->outcome.response.status == 201);

  auto retried = get(h, "/notes", "POST");
  h.transport.replyTo("/notes", 403, R"({"detail":"x","code":"csrf_invalid"})");
  REQUIRE(h.transport.replyTo("/auth/csrf", 200, R"({"csrf_token":"c-3"})"));
  REQUIRE(h.transport.find("/notes") >= 0);
  CHECK(Harness::header(h.transport.pending.back().request, "X-CSRF-Token") == "c-3");
  h.transport.replyTo("/notes", 403, R"({"detail":"x","code":"csrf_invalid"})");
  REQUIRE(retried->done);
  CHECK(retried->outcome.response.status == 403);  // one retry only
  CHECK(h.transport.pending.empty());

  auto plain403 = get(h, "/notes", "POST");
  h.transport.replyTo("/notes", 403, R"({"detail":"forbidden"})");
  CHECK(plain403->outcome.response.status == 403);
}

TEST_CASE("a CSRF fetch that fails fails its waiters with a code") {
  Harness h;
  h.loginAs("a");
  h.session->resetCsrfToken();
  auto a = get(h, "/n", "POST");
  auto b = get(h, "/n", "PUT");
  h.transport.replyTo("/auth/csrf", 200, "<html>");
  CHECK(a->outcome.code == "bad_response");
  CHECK(b->outcome.code == "bad_response");
  auto c = get(h, "/n", "POST");
  h.transport.replyTo("/auth/csrf", 503, "");
  CHECK(c->outcome.code == "csrf_unavailable");
  auto d = get(h, "/n", "DELETE");
  h.transport.fail(0);
  CHECK(d->outcome.code == "network");
}

TEST_CASE("every request is bounded by requestTimeoutMs") {
  Harness h(R"(,"requestTimeoutMs":1000)");
  h.loginAs("a");
  auto r = get(h, "/slow");
  h.scheduler.advance(999);
  CHECK_FALSE(r->done);
  h.scheduler.advance(1);
  CHECK(r->outcome.code == "timeout");
  CHECK(h.transport.aborted.size() == 1);
  auto w = get(h, "/w", "POST");  // CSRF cached: straight out
  h.session->resetCsrfToken();
  auto x = get(h, "/x", "POST");
  h.scheduler.advance(1000);
  CHECK(x->outcome.code == "timeout");
  CHECK(w->outcome.code == "timeout");
}

TEST_CASE("a response that lands after logout is dropped: session_changed, nothing written") {
  Harness h;
  h.loginAs("a");
  auto profile = get(h, "/user/profile");
  const std::size_t index = static_cast<std::size_t>(h.transport.find("/user/profile"));
  auto done = std::move(h.transport.pending[index].done);
  h.session->logout(nullptr);
  CHECK(profile->outcome.code == "session_changed");
  h.loginAs("b");
  HttpResponse late;
  late.status = 200;
  late.body = R"({"email":"a@test.com"})";
  done(late);  // the transport answers anyway
  CHECK(profile->outcome.code == "session_changed");
  CHECK(parseJson(h.session->userJson())["id"] == "b");
}

TEST_CASE("login as B while A's request is in flight: A's caller never sees A's data as a success") {
  Harness h;
  h.loginAs("a");
  auto profile = get(h, "/user/profile");
  h.loginAs("b");
  CHECK(profile->done);
  CHECK(profile->outcome.code == "session_changed");
}

TEST_CASE("a newer login supersedes an older one; logout cancels a login in flight") {
  Harness h;
  LoginOutcome first;
  LoginOutcome second;
  h.session->login("a@test.com", "pw", [&](const LoginOutcome& o) { first = o; });
  h.session->login("b@test.com", "pw", [&](const LoginOutcome& o) { second = o; });
  CHECK(first.code == "superseded");
  h.transport.replyTo("/auth/csrf", 200, R"({"csrf_token":"c"})");
  h.transport.replyTo("/auth/login", 200, h.loginBody("b", "acc-b", "ref-b"));
  CHECK(second.success);

  LoginOutcome third;
  h.session->logout(nullptr);
  h.transport.pending.clear();
  h.session->login("c@test.com", "pw", [&](const LoginOutcome& o) { third = o; });
  h.transport.replyTo("/auth/csrf", 200, R"({"csrf_token":"c"})");
  const int i = h.transport.find("/auth/login");
  REQUIRE(i >= 0);
  auto late = std::move(h.transport.pending[static_cast<std::size_t>(i)].done);
  h.session->logout(nullptr);
  CHECK(third.code == "session_changed");
  HttpResponse response;
  response.status = 200;
  response.body = h.loginBody("c", "acc-c", "ref-c");
  late(response);
  CHECK_FALSE(h.session->isAuthenticated());
  CHECK(h.store.values.count("access_token") == 0);
}

TEST_CASE("storage that fails keeps the session working in memory with one warning") {
  Harness h(R"(,"logLevel":"warn")");
  h.store.full = true;
  h.loginAs("a");
  CHECK(h.session->isAuthenticated());
  auto r = get(h, "/user/profile");
  CHECK(Harness::header(h.transport.sent.back(), "Authorization").rfind("Bearer ", 0) == 0);
  REQUIRE(h.log.lines.size() == 1);
  CHECK(h.log.lines[0].second.find("Storage unavailable") != std::string::npos);
  h.session->logout(nullptr);
  CHECK_FALSE(h.session->isAuthenticated());
}

TEST_CASE("refresh: concurrent 401s share one refresh and replay once with the new token") {
  Harness h;
  h.loginAs("a");
  std::vector<std::shared_ptr<Result>> results;
  for (int i = 0; i < 10; ++i) results.push_back(get(h, "/data"));
  while (h.transport.find("/data") >= 0) h.transport.replyTo("/data", 401, R"({"detail":"expired"})");
  CHECK(h.transport.count("/auth/refresh") == 1);
  const std::string newAccess = h.newAccess("a");
  REQUIRE(h.transport.replyTo("/auth/refresh", 200,
                              R"({"access_token":")" + newAccess + R"(","refresh_token":"refresh-a2"})"));
  CHECK(h.store.values["refresh_token"] == "refresh-a2");
  REQUIRE(h.transport.pending.size() == 10);
  for (const auto& p : h.transport.pending) CHECK(Harness::header(p.request, "Authorization") == "Bearer " + newAccess);
  // A replay that gets 401 again is returned as a 401: no second refresh.
  while (h.transport.find("/data") >= 0) h.transport.replyTo("/data", 401, "{}");
  for (const auto& r : results) CHECK(r->outcome.response.status == 401);
  CHECK(h.transport.count("/auth/refresh") == 1);
  CHECK(h.events.fired.back().first == "auth:refresh");
}

TEST_CASE("refresh refused ends the session: expired, waiters get session_expired") {
  Harness h;
  h.loginAs("a");
  auto a = get(h, "/data");
  auto b = get(h, "/data");
  h.transport.replyTo("/data", 401, "{}");
  h.transport.replyTo("/data", 401, "{}");
  h.transport.replyTo("/auth/refresh", 401, R"({"detail":"revoked"})");
  CHECK(a->outcome.code == "session_expired");
  CHECK(b->outcome.code == "session_expired");
  CHECK_FALSE(h.session->isAuthenticated());
  CHECK(h.store.values.empty());
  CHECK(h.events.fired.back().first == "auth:logout");
  CHECK(parseJson(h.events.fired.back().second)["reason"] == "expired");
  CHECK(h.transport.count("/auth/logout") == 0);
  CHECK(h.transport.pending.empty());
}

TEST_CASE("refresh 5xx or network failure keeps the session and fails only the waiters") {
  Harness h;
  h.loginAs("a");
  auto a = get(h, "/data");
  h.transport.replyTo("/data", 401, R"({"detail":"expired"})");
  h.transport.replyTo("/auth/refresh", 500, "");
  CHECK(a->outcome.response.status == 401);
  CHECK(h.session->isAuthenticated());
  auto b = get(h, "/data");
  h.transport.replyTo("/data", 401, "{}");
  h.transport.fail(static_cast<std::size_t>(h.transport.find("/auth/refresh")));
  CHECK(b->outcome.code == "network");
  CHECK(h.session->isAuthenticated());
  CHECK(h.transport.count("/auth/refresh") == 2);
}

TEST_CASE("a refresh overtaken by logout puts nothing back") {
  Harness h;
  h.loginAs("a");
  auto a = get(h, "/data");
  h.transport.replyTo("/data", 401, "{}");
  const int i = h.transport.find("/auth/refresh");
  REQUIRE(i >= 0);
  auto late = std::move(h.transport.pending[static_cast<std::size_t>(i)].done);
  h.session->logout(nullptr);
  CHECK(a->outcome.code == "session_changed");
  HttpResponse response;
  response.status = 200;
  response.body = R"({"access_token":"zombie","refresh_token":"zombie-r"})";
  late(response);
  CHECK_FALSE(h.session->isAuthenticated());
  CHECK(h.store.values.count("access_token") == 0);
  for (const auto& e : h.events.fired) CHECK(e.first != "auth:refresh");
}

TEST_CASE("proactive refresh fires refreshLeewaySec before exp; opaque tokens do not schedule one") {
  Harness h(R"(,"refreshLeewaySec":30)");
  h.loginAs("a");  // exp = now + 900 s
  h.scheduler.advance((900 - 30) * 1000.0 - 1);
  CHECK(h.transport.count("/auth/refresh") == 0);
  h.scheduler.advance(1);
  CHECK(h.transport.count("/auth/refresh") == 1);
  h.transport.replyTo("/auth/refresh", 200, R"({"access_token":"opaque","refresh_token":"r2"})");
  CHECK(h.events.fired.back().first == "auth:refresh");
  CHECK(h.scheduler.timers.empty());
  h.session->dispose();
}

TEST_CASE("logout and dispose cancel the proactive timer") {
  Harness h;
  h.loginAs("a");
  CHECK_FALSE(h.scheduler.timers.empty());
  h.session->logout(nullptr);
  h.transport.pending.clear();
  h.scheduler.timers.clear();  // the logout notice's own deadline
  h.loginAs("b");
  h.session->dispose();
  CHECK(h.scheduler.timers.empty());
  auto r = get(h, "/x");
  CHECK(r->outcome.code == "disposed");
}

TEST_CASE("a listener that disposes the session during auth:logout does not hang logout") {
  Harness h;
  h.loginAs("a");
  h.events.onEvent = [&](const std::string& name, const std::string&) {
    if (name == "auth:logout") h.session->dispose();
  };
  bool finished = false;
  h.session->logout([&](const LogoutOutcome&) { finished = true; });
  CHECK(finished);
}

TEST_CASE("refresh answered 429/503: bounded retries with backoff, Retry-After honoured up to a cap") {
  Harness h(R"(,"requestTimeoutMs":60000)");
  h.loginAs("a");
  auto a = get(h, "/data");
  h.transport.replyTo("/data", 401, "{}");
  // 1: Retry-After 2 s is honoured.
  REQUIRE(h.transport.find("/auth/refresh") >= 0);
  h.transport.replyTo("/auth/refresh", 429, "", "content-type: application/json\r\nRetry-After: 2\r\n");
  CHECK(h.session->refreshInFlight());
  h.scheduler.advance(1999);
  CHECK(h.transport.count("/auth/refresh") == 1);
  h.scheduler.advance(1);
  CHECK(h.transport.count("/auth/refresh") == 2);
  // 2: an absurd Retry-After is capped at 10 s.
  h.transport.replyTo("/auth/refresh", 503, "", "retry-after: 999999\r\n");
  h.scheduler.advance(10000);
  CHECK(h.transport.count("/auth/refresh") == 3);
  // 3: no Retry-After: jittered backoff below the cap; then the last attempt.
  h.transport.replyTo("/auth/refresh", 503, "");
  h.scheduler.advance(10000);
  CHECK(h.transport.count("/auth/refresh") == 4);
  h.transport.replyTo("/auth/refresh", 503, "");
  // Retries exhausted: the waiter gets its own 401, the session survives, no loop.
  CHECK(a->outcome.response.status == 401);
  CHECK(h.session->isAuthenticated());
  CHECK_FALSE(h.session->refreshInFlight());
  h.scheduler.advance(5000);
  CHECK(h.transport.count("/auth/refresh") <= 5);
}

TEST_CASE("a throttled refresh overtaken by logout is not sent again") {
  Harness h;
  h.loginAs("a");
  auto a = get(h, "/data");
  h.transport.replyTo("/data", 401, "{}");
  h.transport.replyTo("/auth/refresh", 429, "");
  h.session->logout(nullptr);
  CHECK(a->outcome.code == "session_changed");
  h.scheduler.advance(20000);
  CHECK(h.transport.count("/auth/refresh") == 1);
}

TEST_CASE("JSON nested deeper than the limit is refused, not serialised into a stack overflow") {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "[";
  CHECK(parseJson(deep).is_discarded());
  std::string ok = "{\"a\":";
  for (int i = 0; i < kMaxJsonDepth - 1; ++i) ok += "[";
  for (int i = 0; i < kMaxJsonDepth - 1; ++i) ok += "]";
  ok += ",\"s\":\"[[[[{{{{\\\"\"}";
  CHECK_FALSE(parseJson(ok).is_discarded());

  Harness h;
  LoginOutcome outcome;
  h.session->login("a@test.com", "pw", [&](const LoginOutcome& o) { outcome = o; });
  h.transport.replyTo("/auth/csrf", 200, R"({"csrf_token":"c"})");
  h.transport.replyTo("/auth/login", 200, R"({"access_token":"a","refresh_token":"r","user":)" + deep + "}");
  CHECK(outcome.code == "bad_response");
  Harness loggedIn;
  loggedIn.loginAs("a");
  CHECK(loggedIn.session->userJson() != "null");
  loggedIn.store.values["cleanslate_user"] = deep;  // storage is writable by any script of the origin
  CHECK(loggedIn.session->userJson() == "null");    // junk reads as no user
}

TEST_CASE("a stored access token that is not a valid header value is never sent") {
  Harness h;
  h.loginAs("a");
  h.store.values["access_token"] = "abc\r\nX-Injected: 1";
  h.session->request("GET", "/x", {}, [](const RequestOutcome&) {});
  CHECK(Harness::header(h.transport.sent.back(), "Authorization").empty());
  for (const auto& header : h.transport.sent.back().headers) CHECK(isHeaderValue(header.second));
}
