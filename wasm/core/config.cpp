// Session configuration parsing and validation (see config.h).
#include "config.h"

#include <cctype>
#include <cmath>
#include <cstring>

#include "json.h"

namespace cleanslate {
namespace {

bool readBound(const JsonObject& j, const char* key, uint32_t min, uint32_t max, uint32_t* out, std::string* error) {
  const JsonMember* it = j.present(key);
  if (it == nullptr) return true;
  if (it->kind != JsonKind::Number) {
    *error = std::string(key) + " must be a number";
    return false;
  }
  const double v = it->number;
  if (!std::isfinite(v) || v < min || v > max) {
    *error = key + withDecimal(" must be between ", min, " and ") + decimal(max);
    return false;
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

bool readPath(const JsonObject& j, const char* key, std::string* out, std::string* error) {
  if (j.present(key) == nullptr) return true;
  if (!j.string(key, out) || isAbsoluteTarget(*out)) {
    *error = std::string("endpoints.") + key + " must be a path relative to apiBase";
    return false;
  }
  if ((*out)[0] != '/') *out = "/" + *out;
  return true;
}

bool fail(std::string* error, const char* message) {
  *error = message;
  return false;
}

// Reads the options object `j` into `config`; false with `error` set on the first
// option that is wrong.
bool readOptions(const JsonObject& j, Config* config, std::string* error) {
  Config& c = *config;
  if (!j.string("apiBase", &c.apiBase)) return fail(error, "apiBase is required");
  const auto origin = parseOrigin(c.apiBase);
  if (!origin) return fail(error, "apiBase must be an absolute http(s) URL");
  c.apiOrigin = *origin;
  c.apiBase.resize(c.apiBase.find_last_not_of('/') + 1);  // without trailing '/'s
  if (c.apiBase.find_first_of("?#") != std::string::npos) {
    return fail(error, "apiBase must not contain a query or fragment");
  }

  std::string text;
  if (j.present("storage") != nullptr) {
    if (!j.string("storage", &text)) text = "?";
    if (text == "local") c.storage = StorageMode::Local;
    else if (text == "session") c.storage = StorageMode::Session;
    else if (text == "memory") c.storage = StorageMode::Memory;
    else return fail(error, "storage must be 'local', 'session' or 'memory'");
  }
  if (j.present("logLevel") != nullptr) {
    if (!j.string("logLevel", &text)) text = "?";
    if (text == "silent") c.logLevel = LogLevel::Silent;
    else if (text == "error") c.logLevel = LogLevel::Error;
    else if (text == "warn") c.logLevel = LogLevel::Warn;
    else if (text == "info") c.logLevel = LogLevel::Info;
    else if (text == "debug") c.logLevel = LogLevel::Debug;
    else return fail(error, "logLevel must be 'silent', 'error', 'warn', 'info' or 'debug'");
  }
  if (!readBound(j, "logoutTimeoutMs", 1, 600000, &c.logoutTimeoutMs, error) ||
      !readBound(j, "requestTimeoutMs", 1, 3600000, &c.requestTimeoutMs, error) ||
      !readBound(j, "refreshLeewaySec", 0, 86400, &c.refreshLeewaySec, error) ||
      !readBound(j, "maxAuthResponseBytes", 1024, 64 * 1024 * 1024, &c.maxAuthResponseBytes, error) ||
      !readBound(j, "maxResponseBytes", 1024, 1024 * 1024 * 1024, &c.maxResponseBytes, error)) {
    return false;
  }
  if (j.present("csrfHeader") != nullptr) {
    if (!j.string("csrfHeader", &c.csrfHeader) || !isHeaderName(c.csrfHeader)) {
      return fail(error, "csrfHeader must be a valid header name");
    }
  }
  if (j.present("endpoints") != nullptr) {
    JsonObject e;
    if (!j.object("endpoints", &text) || !e.parse(text)) return fail(error, "endpoints must be an object");
    return readPath(e, "login", &c.loginPath, error) && readPath(e, "refresh", &c.refreshPath, error) &&
           readPath(e, "logout", &c.logoutPath, error) && readPath(e, "csrf", &c.csrfPath, error);
  }
  return true;
}

}  // namespace

bool isHeaderName(const std::string& name) {
  if (name.empty() || name.size() > 256) return false;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) continue;
    // A NUL is checked apart: strchr would find the string's terminator.
    if (c == '\0' || std::strchr("!#$%&'*+-.^_`|~", c) == nullptr) return false;
  }
  return true;
}

bool isHeaderValue(const std::string& value) {
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

ConfigResult parseConfig(const std::string& json) {
  ConfigResult result;
  JsonObject j;
  if (!j.parse(json)) {
    result.error = "options must be an object";
  } else {
    readOptions(j, &result.config, &result.error);
  }
  return result;
}

}  // namespace cleanslate
