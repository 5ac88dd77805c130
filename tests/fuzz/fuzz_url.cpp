// libFuzzer target for wasm/core/url.cpp: parseOrigin on arbitrary bytes and
// resolveTarget against fixed apiBases.
//
// Input: the first byte picks the apiBase (bits 0-1) and a prefix put before
// the rest of the input (bits 2-3: none, "https://", "//", or the apiBase's
// own scheme://authority, so the fuzzer explores what follows an authority).
//
// Invariants: an absolute target is called same-origin only when the origin
// a browser would read (fuzzcheck::browserOrigin, written independently)
// equals the apiBase's; a relative target always resolves below apiBase + '/';
// an origin parseOrigin returns is well formed and reads back the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/url.h"
#include "fuzz_check.h"

namespace {

struct Base {
  const char* apiBase;    // as Config holds it: no trailing '/'
  const char* authority;  // scheme://host[:port] as written
};

const Base kBases[] = {
    {"https://api.example.com/api/v1", "https://api.example.com"},
    {"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
    {"https://[::1]:8443/base", "https://[::1]:8443"},
    {"HTTPS://Api.Example.COM:443/v2", "HTTPS://Api.Example.COM:443"},
};

void checkOrigin(const cleanslate::Origin& o, const std::string& url) {
  FUZZ_CHECK(o.scheme == "http" || o.scheme == "https", "bad scheme from " + url);
  FUZZ_CHECK(o.port >= 1 && o.port <= 65535, "bad port from " + url);
  FUZZ_CHECK(!o.host.empty(), "empty host from " + url);
  for (char c : o.host) {
    FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), "host not lower-case from " + url);
    FUZZ_CHECK(c != '@' && c != '%' && c != '\\' && c != '/' && static_cast<unsigned char>(c) > 0x20,
               "host holds a delimiter from " + url);
  }
  const std::string rebuilt = o.scheme + "://" + o.host + ":" + std::to_string(o.port) + "/";
  const auto again = cleanslate::parseOrigin(rebuilt);
  FUZZ_CHECK(again && *again == o, "origin does not read back: " + rebuilt + " from " + url);
  // parseOrigin is stricter than a browser, never laxer.
  const auto browser = fuzzcheck::browserOrigin(url);
  FUZZ_CHECK(browser && *browser == o.scheme + "://" + o.host + ":" + std::to_string(o.port),
             "parseOrigin and a browser disagree on " + url);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Base& base = kBases[data[0] & 3];
  const std::string apiBase = base.apiBase;
  std::string target;
  switch ((data[0] >> 2) & 3) {
    case 0: break;
    case 1: target = "https://"; break;
    case 2: target = "//"; break;
    default: target = base.authority; break;
  }
  target.append(reinterpret_cast<const char*>(data) + 1, size - 1);

  const auto apiOrigin = cleanslate::parseOrigin(apiBase);
  FUZZ_CHECK(apiOrigin.has_value(), "fixed apiBase rejected: " + apiBase);
  const auto apiKey = fuzzcheck::browserOrigin(apiBase);
  FUZZ_CHECK(apiKey.has_value(), "fixed apiBase unreadable: " + apiBase);

  if (const auto origin = cleanslate::parseOrigin(target)) checkOrigin(*origin, target);

  const cleanslate::ResolvedTarget resolved = cleanslate::resolveTarget(apiBase, *apiOrigin, target);
  if (cleanslate::isAbsoluteTarget(target)) {
    if (resolved.sameOrigin) {
      const auto key = fuzzcheck::browserOrigin(resolved.url);
      FUZZ_CHECK(key && *key == *apiKey, "same-origin by resolveTarget but a browser reads " +
                                             (key ? *key : std::string("<unclear>")) + " for " + resolved.url);
    }
    if (target.rfind("//", 0) != 0) FUZZ_CHECK(resolved.url == target, "absolute target rewritten: " + target);
  } else {
    FUZZ_CHECK(resolved.sameOrigin, "relative target not same-origin: " + target);
    FUZZ_CHECK(resolved.url.rfind(apiBase + "/", 0) == 0, "relative target escaped apiBase: " + resolved.url);
  }
  return 0;
}
