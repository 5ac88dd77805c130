// Session configuration: defaults from CONTRACT.md §2 and validation of what
// the JS layer passes in (as a JSON object).
#pragma once

#include <cstdint>
#include <string>

#include "interfaces.h"
#include "url.h"

namespace cleanslate {

enum class StorageMode { Local, Session, Memory };

struct Config {
  std::string apiBase;  // absolute http(s) URL without trailing '/'
  Origin apiOrigin;
  StorageMode storage = StorageMode::Local;
  LogLevel logLevel = LogLevel::Warn;
  uint32_t logoutTimeoutMs = 3000;
  uint32_t requestTimeoutMs = 30000;
  uint32_t refreshLeewaySec = 30;
  uint32_t maxAuthResponseBytes = 1024 * 1024;
  uint32_t maxResponseBytes = 16 * 1024 * 1024;  // any other answer
  std::string csrfHeader = "X-CSRF-Token";
  std::string loginPath = "/auth/login";
  std::string refreshPath = "/auth/refresh";
  std::string logoutPath = "/auth/logout";
  std::string csrfPath = "/auth/csrf";
};

struct ConfigResult {
  Config config;
  std::string error;  // empty when valid
};

ConfigResult parseConfig(const std::string& json);

// True for a valid HTTP header field name (an RFC 7230 token).
bool isHeaderName(const std::string& name);
// True for a header value without CR, LF or NUL.
bool isHeaderValue(const std::string& value);

}  // namespace cleanslate
