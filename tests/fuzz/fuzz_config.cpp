// libFuzzer target for wasm/core/config.cpp: parseConfig on arbitrary text.
//
// Invariants for an accepted config: apiBase reads as the origin it stored,
// has no trailing '/', query or fragment; every endpoint path starts with '/',
// is not absolute and resolves below apiBase + '/'; the bounds and the CSRF
// header name are valid; and the config written back as JSON parses to the
// same config (validation is idempotent).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config.h"
#include "fuzz_check.h"
#include "json_dom.h"

namespace {

using cleanslate::Config;

const char* storageName(cleanslate::StorageMode m) {
  switch (m) {
    case cleanslate::StorageMode::Local: return "local";
    case cleanslate::StorageMode::Session: return "session";
    case cleanslate::StorageMode::Memory: return "memory";
  }
  return "?";
}

const char* levelName(cleanslate::LogLevel l) {
  switch (l) {
    case cleanslate::LogLevel::Silent: return "silent";
    case cleanslate::LogLevel::Error: return "error";
    case cleanslate::LogLevel::Warn: return "warn";
    case cleanslate::LogLevel::Info: return "info";
    case cleanslate::LogLevel::Debug: return "debug";
  }
  return "?";
}

void checkPath(const Config& c, const std::string& path, const std::string& input) {
  FUZZ_CHECK(!path.empty() && path[0] == '/', "endpoint path without a leading '/' from " + input);
  FUZZ_CHECK(!cleanslate::isAbsoluteTarget(path), "absolute endpoint path from " + input);
  const auto resolved = cleanslate::resolveTarget(c.apiBase, c.apiOrigin, path);
  FUZZ_CHECK(resolved.sameOrigin && resolved.url.rfind(c.apiBase + "/", 0) == 0,
             "endpoint escapes apiBase: " + resolved.url);
}

bool same(const Config& a, const Config& b) {
  return a.apiBase == b.apiBase && a.apiOrigin == b.apiOrigin && a.storage == b.storage && a.logLevel == b.logLevel &&
         a.logoutTimeoutMs == b.logoutTimeoutMs && a.requestTimeoutMs == b.requestTimeoutMs &&
         a.refreshLeewaySec == b.refreshLeewaySec && a.maxAuthResponseBytes == b.maxAuthResponseBytes &&
         a.csrfHeader == b.csrfHeader && a.loginPath == b.loginPath && a.refreshPath == b.refreshPath &&
         a.logoutPath == b.logoutPath && a.csrfPath == b.csrfPath;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const cleanslate::ConfigResult result = cleanslate::parseConfig(input);
  if (!result.error.empty()) return 0;
  const Config& c = result.config;

  FUZZ_CHECK(!c.apiBase.empty() && c.apiBase.back() != '/', "apiBase keeps a trailing '/': " + c.apiBase);
  FUZZ_CHECK(c.apiBase.find_first_of("?#") == std::string::npos, "apiBase with query/fragment: " + c.apiBase);
  const auto origin = cleanslate::parseOrigin(c.apiBase);
  FUZZ_CHECK(origin && *origin == c.apiOrigin, "apiOrigin does not match apiBase " + c.apiBase);
  FUZZ_CHECK(c.logoutTimeoutMs >= 1 && c.logoutTimeoutMs <= 600000, "logoutTimeoutMs out of range");
  FUZZ_CHECK(c.requestTimeoutMs >= 1 && c.requestTimeoutMs <= 3600000, "requestTimeoutMs out of range");
  FUZZ_CHECK(c.refreshLeewaySec <= 86400, "refreshLeewaySec out of range");
  FUZZ_CHECK(c.maxAuthResponseBytes >= 1024 && c.maxAuthResponseBytes <= 64u * 1024 * 1024,
             "maxAuthResponseBytes out of range");
  FUZZ_CHECK(cleanslate::isHeaderName(c.csrfHeader), "csrfHeader invalid: " + c.csrfHeader);
  for (const std::string* path : {&c.loginPath, &c.refreshPath, &c.logoutPath, &c.csrfPath}) checkPath(c, *path, input);

  cleanslate::Json back = {
      {"apiBase", c.apiBase},
      {"storage", storageName(c.storage)},
      {"logLevel", levelName(c.logLevel)},
      {"logoutTimeoutMs", c.logoutTimeoutMs},
      {"requestTimeoutMs", c.requestTimeoutMs},
      {"refreshLeewaySec", c.refreshLeewaySec},
      {"maxAuthResponseBytes", c.maxAuthResponseBytes},
      {"csrfHeader", c.csrfHeader},
      {"endpoints",
       {{"login", c.loginPath}, {"refresh", c.refreshPath}, {"logout", c.logoutPath}, {"csrf", c.csrfPath}}},
  };
  const std::string text = back.dump(-1, ' ', false, cleanslate::Json::error_handler_t::replace);
  const cleanslate::ConfigResult again = cleanslate::parseConfig(text);
  FUZZ_CHECK(again.error.empty(), "an accepted config written back is rejected: " + again.error + " for " + text);
  FUZZ_CHECK(same(c, again.config), "an accepted config written back reads differently: " + text);
  return 0;
}
