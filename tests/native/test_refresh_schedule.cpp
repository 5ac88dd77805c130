// Proactive refresh under a client clock that is off the server's: the
// arithmetic of RefreshSchedule, and the session driven by a fake clock whose
// wall time is skewed while its monotonic time and timers run true.
#include <doctest/doctest.h>

#include "core/refresh_schedule.h"
#include "fakes.h"

using namespace cleanslate;
using namespace cleanslate::testing;

namespace {

constexpr double kMinute = 60 * 1000.0;

std::string loginBody(const std::string& access, const std::string& refresh, const std::string& extra) {
  return R"({"access_token":")" + access + R"(","refresh_token":")" + refresh + R"(","token_type":"bearer")" + extra +
         R"(,"user":{"id":"a","email":"a@test.com"}})";
}

// A token the server (true clock) issues for `ttlSec`, with or without `iat`.
std::string serverToken(Harness& h, double ttlSec, bool withIat) {
  const auto now = static_cast<long long>(h.scheduler.now / 1000);
  return makeJwt(R"({"sub":"a","n":)" + std::to_string(++h.tokenCounter) +
                 (withIat ? R"(,"iat":)" + std::to_string(now) : "") + R"(,"exp":)" +
                 std::to_string(now + static_cast<long long>(ttlSec)) + "}");
}

void login(Harness& h, const std::string& extra, bool withIat = true) {
  bool ok = false;
  h.session->login("a@test.com", "pw", [&](const LoginOutcome& o) { ok = o.success; });
  REQUIRE(h.transport.replyToLast("/auth/csrf", 200, R"({"csrf_token":"c"})"));
  REQUIRE(h.transport.replyToLast("/auth/login", 200, loginBody(serverToken(h, 900, withIat), "r1", extra)));
  REQUIRE(ok);
}

}  // namespace

TEST_CASE("schedule arithmetic: lifetime as received, leeway, halfway for short tokens, no loop when unsure") {
  RefreshSchedule s;
  const double mono = 5000;
  const double wall = 1.7e12;
  s.received("fp1", mono, 900.0);
  CHECK(*s.delayMs("fp1", mono, wall, std::nullopt, 30000) == doctest::Approx(870000));
  CHECK(*s.remainingMs("fp1", mono + 1000) == doctest::Approx(899000));
  // The wall clock and `exp` do not matter for tokens received here.
  CHECK(*s.delayMs("fp1", mono, wall + 20 * kMinute, wall - kMinute, 30000) == doctest::Approx(870000));
  s.received("fp2", mono, 20.0);  // shorter than the leeway: halfway
  CHECK(*s.delayMs("fp2", mono, wall, std::nullopt, 30000) == doctest::Approx(10000));
  s.received("fp3", mono, 0.5);  // never faster than once a second
  CHECK(*s.delayMs("fp3", mono, wall, std::nullopt, 30000) == doctest::Approx(RefreshSchedule::kMinDelayMs));
  // Received with no lifetime: `exp` against the local clock, unless the
  // fresh token already looks due (then no proactive refresh at all).
  s.received("fp4", mono, std::nullopt);
  CHECK(*s.delayMs("fp4", mono, wall, wall + 900000, 30000) == doctest::Approx(870000));
  CHECK_FALSE(s.delayMs("fp4", mono, wall, wall - 1000, 30000));
  CHECK_FALSE(s.delayMs("fp4", mono, wall, std::nullopt, 30000));
  CHECK_FALSE(s.remainingMs("fp4", mono));
  // Tokens it knows nothing of: `exp` against the local clock; due ones once, soon.
  CHECK(*s.delayMs("other", mono, wall, wall - 60000, 30000) == doctest::Approx(RefreshSchedule::kMinDelayMs));
  CHECK_FALSE(s.delayMs("other", mono, wall, std::nullopt, 30000));
  s.adopted("fp5", mono, 600000);
  CHECK(*s.delayMs("fp5", mono + 1000, wall, std::nullopt, 30000) == doctest::Approx(569000));
  s.clear();
  CHECK_FALSE(s.remainingMs("fp5", mono));
}

TEST_CASE(
    "a client clock 20 minutes ahead or behind: no refresh while idle, one when due, a 401 still refreshes once") {
  for (const double skew : {20 * kMinute, -20 * kMinute}) {
    for (const char* extra : {R"(,"expires_in":900)", ""}) {  // the lifetime from expires_in, or from exp - iat
      CAPTURE(skew);
      CAPTURE(extra);
      Harness h(R"(,"refreshLeewaySec":30)");
      h.scheduler.skewMs = skew;
      login(h, extra);
      h.scheduler.advance(10000);
      CHECK(h.transport.count("/auth/refresh") == 0);
      h.scheduler.advance((870 - 10) * 1000.0 - 1);
      CHECK(h.transport.count("/auth/refresh") == 0);
      h.scheduler.advance(1);
      REQUIRE(h.transport.count("/auth/refresh") == 1);
      REQUIRE(h.transport.replyTo(
          "/auth/refresh", 200,
          R"({"access_token":")" + serverToken(h, 900, true) + R"(","refresh_token":"r2")" + extra + "}"));
      h.scheduler.advance(10 * kMinute);
      CHECK(h.transport.count("/auth/refresh") == 1);

      // A real 401: one refresh, one replay.
      bool answered = false;
      h.session->request("GET", "/data", {}, [&](const RequestOutcome& o) { answered = o.response.status == 200; });
      REQUIRE(h.transport.replyTo("/data", 401, "{}"));
      REQUIRE(h.transport.replyTo(
          "/auth/refresh", 200,
          R"({"access_token":")" + serverToken(h, 900, true) + R"(","refresh_token":"r3")" + extra + "}"));
      REQUIRE(h.transport.replyTo("/data", 200, "{}"));
      CHECK(answered);
      CHECK(h.transport.count("/auth/refresh") == 2);
      h.session->dispose();
    }
  }
}

TEST_CASE("a fresh token that already looks expired, with no lifetime to go by, causes no refresh loop") {
  Harness h(R"(,"refreshLeewaySec":30)");
  h.scheduler.skewMs = 20 * kMinute;
  login(h, "", /*withIat=*/false);
  h.scheduler.advance(15000);
  CHECK(h.transport.count("/auth/refresh") == 0);
  CHECK(h.session->isAuthenticated());
}

TEST_CASE("tokens found in storage (a reloaded page) that look due are refreshed once, then by their lifetime") {
  Harness first(R"(,"refreshLeewaySec":30)");
  first.scheduler.skewMs = 20 * kMinute;
  login(first, R"(,"expires_in":900)");
  // A new page over the same storage, the clock still 20 minutes ahead.
  Harness h(R"(,"refreshLeewaySec":30)");
  h.scheduler.now = first.scheduler.now;
  h.scheduler.skewMs = first.scheduler.skewMs;
  h.store.values = first.store.values;
  h.session = std::make_unique<Session>(
      parseConfig(R"({"apiBase":"https://api.example.com/api/v1","refreshLeewaySec":30})").config,
      Platform{&h.transport, &h.store, &h.events, &h.scheduler, &h.log});
  REQUIRE(h.session->isAuthenticated());
  h.scheduler.advance(1000);
  h.transport.replyToLast("/auth/csrf", 200, R"({"csrf_token":"c"})");  // the refresh may wait for one
  REQUIRE(h.transport.count("/auth/refresh") == 1);
  REQUIRE(h.transport.replyTo(
      "/auth/refresh", 200,
      R"({"access_token":")" + serverToken(h, 900, true) + R"(","refresh_token":"r2","expires_in":900})"));
  h.scheduler.advance(10 * kMinute);
  CHECK(h.transport.count("/auth/refresh") == 1);
}
