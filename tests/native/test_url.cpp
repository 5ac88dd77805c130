// Origin parsing and target resolution: which URLs may carry credentials.
#include <doctest/doctest.h>

#include "core/url.h"

using cleanslate::Origin;
using cleanslate::parseOrigin;
using cleanslate::resolveTarget;

TEST_CASE("parseOrigin reads scheme, host and port, with defaults") {
  const auto a = parseOrigin("https://API.Example.com/api/v1");
  REQUIRE(a);
  CHECK(a->scheme == "https");
  CHECK(a->host == "api.example.com");
  CHECK(a->port == 443);
  const auto b = parseOrigin("http://127.0.0.1:8080");
  REQUIRE(b);
  CHECK(b->port == 8080);
  CHECK(parseOrigin("http://[::1]:9000/x")->host == "[::1]");
  CHECK(parseOrigin("HTTP://a.b")->scheme == "http");
}

TEST_CASE("parseOrigin fails closed on anything ambiguous") {
  for (const char* url : {"ftp://a.b/", "javascript:alert(1)", "//a.b/x", "https://user@a.b/", "https://a.b@evil.test/",
                          "https://a.b\\@evil.test/", "https://a.b%2eevil.test/", "https://a.b:99999/", "https://a.b:/",
                          "https://a.b:8x/", "https:// a.b/", "https://a.b\t.evil/", "https:///x", "https://.a.b/",
                          "https://a..b/", "https://[::1/", "https://a.b:-1/"}) {
    CAPTURE(url);
    CHECK_FALSE(parseOrigin(url));
  }
}

TEST_CASE("resolveTarget: relative paths stay below apiBase, absolute URLs are judged by origin") {
  const std::string base = "https://api.example.com/api/v1";
  const Origin origin = *parseOrigin(base);
  CHECK(resolveTarget(base, origin, "/user/profile").url == "https://api.example.com/api/v1/user/profile");
  CHECK(resolveTarget(base, origin, "user/profile").url == "https://api.example.com/api/v1/user/profile");
  CHECK(resolveTarget(base, origin, "/user").sameOrigin);
  // A path can never become an authority, even against a bare origin.
  const auto bare = resolveTarget("https://api.example.com", origin, "@evil.test/x");
  CHECK(bare.url == "https://api.example.com/@evil.test/x");
  CHECK(bare.sameOrigin);

  CHECK(resolveTarget(base, origin, "https://api.example.com/other").sameOrigin);
  CHECK(resolveTarget(base, origin, "https://API.EXAMPLE.COM:443/x").sameOrigin);
  for (const char* foreign :
       {"https://api.example.com.evil.test/x", "https://evil.test/https://api.example.com/", "http://api.example.com/x",
        "https://api.example.com:8443/x", "https://api.example.com@evil.test/x", "https://user:pw@api.example.com/x",
        "//evil.test/x", "https://api.example.com\\@evil.test/"}) {
    CAPTURE(foreign);
    CHECK_FALSE(resolveTarget(base, origin, foreign).sameOrigin);
  }
  CHECK(resolveTarget(base, origin, "//evil.test/x").url == "https://evil.test/x");
}

TEST_CASE("resolveTarget: absolute URLs a browser could read differently are not readable") {
  const auto origin = *parseOrigin("https://api.example.com");
  const std::string base = "https://api.example.com/api/v1";
  for (const std::string& target :
       {std::string("https://api.example.com/\0x", 26), std::string("https://api.example.com@evil.test/x"),
        std::string("https:\\\\api.example.com/x"), std::string("//api.example.com%2f/x"),
        std::string("http:api.example.com/x"), std::string("mailto:a b")}) {
    CAPTURE(target);
    CHECK_FALSE(resolveTarget(base, origin, target).readable);
  }
  for (const char* target :
       {"/user", "https://api.example.com/x", "https://other.test/x", "mailto:a@b.test", "user/x y"}) {
    CAPTURE(target);
    CHECK(resolveTarget(base, origin, target).readable);
  }
}
