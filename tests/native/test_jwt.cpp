// JWT `exp` decoding: valid tokens give exp, everything else is opaque.
#include <doctest/doctest.h>

#include "core/jwt.h"
#include "fakes.h"

using cleanslate::base64UrlDecode;
using cleanslate::jwtExpiry;
using cleanslate::testing::b64url;
using cleanslate::testing::makeJwt;

TEST_CASE("base64url decodes with and without padding, rejects other characters") {
  CHECK(*base64UrlDecode("aGVsbG8") == "hello");
  CHECK(*base64UrlDecode("aGVsbG8=") == "hello");
  CHECK(*base64UrlDecode("_-8") == std::string("\xff\xef", 2));
  CHECK_FALSE(base64UrlDecode("a$b"));
  CHECK_FALSE(base64UrlDecode("abcde"));
  CHECK(*base64UrlDecode("") == "");
}

TEST_CASE("jwtExpiry reads a numeric exp") {
  CHECK(*jwtExpiry(makeJwt(R"({"sub":"1","exp":1800000000})")) == doctest::Approx(1800000000));
  CHECK(*jwtExpiry(makeJwt(R"({"exp":1800000000.5})")) == doctest::Approx(1800000000.5));
}

TEST_CASE("jwtExpiry treats anything odd as opaque") {
  for (const std::string& token :
       {std::string("opaque-token"), std::string("a.b"), std::string("a.b.c.d"), makeJwt(R"({"sub":"1"})"),
        makeJwt(R"({"exp":"1800000000"})"), makeJwt(R"({"exp":null})"), makeJwt(R"({"exp":-5})"),
        makeJwt(R"({"exp":1e300})"), makeJwt("[1,2,3]"), makeJwt("not json"), std::string("x.!!!.y"),
        b64url("{}") + "." + std::string(20000, 'A') + ".sig"}) {
    CAPTURE(token.substr(0, 60));
    CHECK_FALSE(jwtExpiry(token));
  }
}
