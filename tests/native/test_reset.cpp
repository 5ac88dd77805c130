// The app's own state (CONTRACT.md §5.2): where the reset hooks run in the
// logout sequence, for which reasons, and the 'switch' of users, whose login
// waits for the reset to settle.
#include <doctest/doctest.h>

#include "fakes.h"

using namespace cleanslate;
using cleanslate::testing::FakeStore;
using cleanslate::testing::Harness;

namespace {

struct LoginResult {
  bool done = false;
  LoginOutcome outcome;
};

// Starts a login of `user` and answers its CSRF and login requests; the
// login may still be held (a switch) when this returns.
std::shared_ptr<LoginResult> startLogin(Harness& h, const std::string& user) {
  auto result = std::make_shared<LoginResult>();
  h.session->login(user + "@test.com", "pw", [result](const LoginOutcome& o) {
    CHECK_FALSE(result->done);  // answered exactly once
    result->done = true;
    result->outcome = o;
  });
  REQUIRE(h.transport.replyToLast("/auth/csrf", 200, R"({"csrf_token":"csrf-)" + user + R"("})"));
  REQUIRE(h.transport.replyToLast("/auth/login", 200, h.loginBody(user, h.newAccess(user), "refresh-" + user)));
  return result;
}

int countEvents(const Harness& h, const std::string& name) {
  int n = 0;
  for (const auto& e : h.events.fired) n += e.first == name ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("logout: the hooks run after the API state reset, before the tokens are cleared and the event") {
  Harness h("", /*withReset=*/true);
  h.loginAs("a");
  bool checked = false;
  h.reset.onReset = [&](const std::string& reason) {
    CHECK(reason == "user");
    CHECK(h.log.texts().back() == "[Auth] API state reset complete");
    CHECK(h.store.values.count("access_token") == 1);  // tokens not cleared yet
    CHECK(countEvents(h, "auth:logout") == 0);
    checked = true;
  };
  bool loggedOut = false;
  h.session->logout([&](const LogoutOutcome&) { loggedOut = true; });
  CHECK(checked);
  CHECK(h.reset.reasons == std::vector<std::string>{"user"});
  CHECK(countEvents(h, "auth:logout") == 1);
  CHECK(h.store.values.empty());  // tokens and the last-user marker are gone
  // The hooks' async work never holds up the logout sequence: the core does
  // not wait for it (the JS entry does, before logout() resolves).
  CHECK(h.reset.held.empty());
  REQUIRE(h.transport.replyTo("/auth/csrf", 200, R"({"csrf_token":"fresh"})"));
  REQUIRE(h.transport.replyTo("/auth/logout", 200, "{}"));
  CHECK(loggedOut);
}

TEST_CASE("a refused refresh resets the app's state as 'expired'") {
  Harness h("", true);
  h.loginAs("a");
  RequestOutcome outcome;
  h.session->request("GET", "/data", {}, [&](const RequestOutcome& o) { outcome = o; });
  h.transport.replyTo("/data", 401, "{}");
  h.transport.replyTo("/auth/refresh", 401, R"({"detail":"revoked"})");
  CHECK(outcome.code == "session_expired");
  CHECK(h.reset.reasons == std::vector<std::string>{"expired"});
}

TEST_CASE("the last-user marker holds a hash of the id, never the id, and a reset removes it") {
  Harness h("", true);
  h.loginAs("alice-0042");
  REQUIRE(h.store.values.count("cleanslate_last_user") == 1);
  const std::string marker = h.store.values["cleanslate_last_user"];
  CHECK(marker.size() == 16);
  CHECK(marker.find("alice") == std::string::npos);
  CHECK(marker.find("0042") == std::string::npos);
  h.session->logout(nullptr);
  CHECK(h.store.values.count("cleanslate_last_user") == 0);
}

TEST_CASE("a login of the same user again is no switch; another user is, before auth:login and login()") {
  Harness h("", true);
  h.loginAs("a");
  h.loginAs("a");  // answered at once: nothing to reset
  CHECK(h.reset.reasons.empty());

  bool sawLoginEvent = false;
  h.reset.onReset = [&](const std::string& reason) {
    CHECK(reason == "switch");
    sawLoginEvent = countEvents(h, "auth:login") != 2;
  };
  auto b = startLogin(h, "b");
  CHECK(h.reset.reasons == std::vector<std::string>{"switch"});
  CHECK_FALSE(sawLoginEvent);
  // Held until the hooks' async work settles: no auth:login, no answer, and
  // nothing sent meanwhile carries a token.
  CHECK_FALSE(b->done);
  CHECK(countEvents(h, "auth:login") == 2);
  CHECK_FALSE(h.session->isAuthenticated());
  h.session->request("GET", "/meanwhile", {}, [](const RequestOutcome&) {});
  CHECK(Harness::header(h.transport.sent.back(), "Authorization").empty());

  h.reset.settle();
  REQUIRE(b->done);
  CHECK(b->outcome.success);
  CHECK(countEvents(h, "auth:login") == 3);
  CHECK(parseJson(h.events.fired.back().second)["user"]["id"] == "b");
  CHECK(h.session->isAuthenticated());
  CHECK(h.store.values["refresh_token"] == "refresh-b");
}

TEST_CASE("after a reset, the next user's login is no switch") {
  Harness h("", true);
  h.loginAs("a");
  h.session->logout(nullptr);
  h.loginAs("b");  // answered at once
  CHECK(h.reset.reasons == std::vector<std::string>{"user"});
}

TEST_CASE("a session that ended while the page was closed: the next page's login of another user is a switch") {
  Harness h("", true);
  h.loginAs("a");
  // The page closes; A's tokens go (say, sessionStorage-like, or removed)
  // but the marker stays; no reset ran.
  h.store.values.erase("access_token");
  h.store.values.erase("refresh_token");
  h.store.values.erase("cleanslate_user");
  h.open("", true);
  CHECK_FALSE(h.session->isAuthenticated());
  auto b = startLogin(h, "b");
  CHECK(h.reset.reasons == std::vector<std::string>{"switch"});
  h.reset.settle();
  CHECK(b->outcome.success);
}

TEST_CASE("a page loaded over a stored session of A (no marker yet) still knows A") {
  Harness h("", true);
  h.loginAs("a");
  h.store.values.erase("cleanslate_last_user");
  h.open("", true);
  REQUIRE(h.session->isAuthenticated());
  auto b = startLogin(h, "b");
  CHECK(h.reset.reasons == std::vector<std::string>{"switch"});
  h.reset.settle();
  CHECK(b->outcome.success);
}

TEST_CASE("a held login is answered when something overtakes it: logout, resetApiState, a newer login, dispose") {
  SUBCASE("logout") {
    Harness h("", true);
    h.loginAs("a");
    auto b = startLogin(h, "b");
    h.session->logout(nullptr);
    REQUIRE(b->done);
    CHECK(b->outcome.code == "session_changed");
    h.reset.settle();  // the late settle puts nothing back
    CHECK_FALSE(h.session->isAuthenticated());
    CHECK(h.store.values.count("refresh_token") == 0);
    CHECK(countEvents(h, "auth:login") == 1);
  }
  SUBCASE("resetApiState") {
    Harness h("", true);
    h.loginAs("a");
    auto b = startLogin(h, "b");
    h.session->resetApiState();
    REQUIRE(b->done);
    CHECK(b->outcome.code == "session_changed");
    h.reset.settle();
    CHECK_FALSE(h.session->isAuthenticated());
  }
  SUBCASE("a newer login") {
    Harness h("", true);
    h.loginAs("a");
    auto b = startLogin(h, "b");
    h.session->login("c@test.com", "pw", [](const LoginOutcome&) {});
    REQUIRE(b->done);
    CHECK(b->outcome.code == "superseded");
  }
  SUBCASE("dispose") {
    Harness h("", true);
    h.loginAs("a");
    auto b = startLogin(h, "b");
    h.session->dispose();
    REQUIRE(b->done);
    CHECK(b->outcome.code == "disposed");
    h.reset.settle();
    CHECK(countEvents(h, "auth:login") == 1);
  }
}

TEST_CASE("a hook that logs out does not run the hooks again") {
  Harness h("", true);
  h.loginAs("a");
  h.reset.onReset = [&](const std::string&) { h.session->logout(nullptr); };
  h.session->logout(nullptr);
  CHECK(h.reset.reasons.size() == 1);
  CHECK_FALSE(h.session->isAuthenticated());
}
