// Session options: defaults and validation errors.
#include <doctest/doctest.h>

#include "core/config.h"

using cleanslate::parseConfig;

TEST_CASE("defaults follow the contract") {
  const auto r = parseConfig(R"({"apiBase":"http://127.0.0.1:8080/api/v1/"})");
  REQUIRE(r.error.empty());
  CHECK(r.config.apiBase == "http://127.0.0.1:8080/api/v1");
  CHECK(r.config.logoutTimeoutMs == 3000);
  CHECK(r.config.requestTimeoutMs == 30000);
  CHECK(r.config.refreshLeewaySec == 30);
  CHECK(r.config.csrfHeader == "X-CSRF-Token");
  CHECK(r.config.loginPath == "/auth/login");
  CHECK(r.config.storage == cleanslate::StorageMode::Local);
  CHECK(r.config.logLevel == cleanslate::LogLevel::Warn);
}

TEST_CASE("options are read and checked") {
  const auto r = parseConfig(
      R"({"apiBase":"https://a.b","storage":"memory","logLevel":"info","logoutTimeoutMs":500,"endpoints":{"login":"signin"},"csrfHeader":"X-XSRF"})");
  REQUIRE(r.error.empty());
  CHECK(r.config.loginPath == "/signin");
  CHECK(r.config.logoutTimeoutMs == 500);
  CHECK(r.config.csrfHeader == "X-XSRF");

  for (const char* bad :
       {"[]", "not json", R"({})", R"({"apiBase":"/relative"})", R"({"apiBase":"https://a.b?x=1"})",
        R"({"apiBase":"https://a.b","storage":"disk"})", R"({"apiBase":"https://a.b","logLevel":3})",
        R"({"apiBase":"https://a.b","logoutTimeoutMs":"5"})", R"({"apiBase":"https://a.b","logoutTimeoutMs":0})",
        R"({"apiBase":"https://a.b","requestTimeoutMs":1e99})",
        R"({"apiBase":"https://a.b","csrfHeader":"bad header"})",
        R"({"apiBase":"https://a.b","endpoints":{"login":"https://evil.test/login"}})",
        R"({"apiBase":"https://a.b","endpoints":[]})"}) {
    CAPTURE(bad);
    CHECK_FALSE(parseConfig(bad).error.empty());
  }
}
