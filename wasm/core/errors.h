// The error codes a caller can see (SessionError.code in JS) and the reasons
// a session ends (auth:logout's `reason`). Each enum has one name table; the
// strings are part of the public contract and never change.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cleanslate {

enum class ErrorCode : uint8_t {
  Network,
  Timeout,
  SessionChanged,
  SessionExpired,
  BadResponse,
  CsrfUnavailable,
  Disposed,
  InvalidArgument,
  InvalidCredentials,
  RateLimited,
  ServerError,
  HttpError,
  Superseded,
  ResponseTooLarge,
};

inline constexpr const char* kErrorCodeNames[] = {
    "network",          "timeout",    "session_changed",  "session_expired",     "bad_response",
    "csrf_unavailable", "disposed",   "invalid_argument", "invalid_credentials", "rate_limited",
    "server_error",     "http_error", "superseded",       "response_too_large",
};

static_assert(sizeof(kErrorCodeNames) / sizeof(kErrorCodeNames[0]) ==
                  static_cast<std::size_t>(ErrorCode::ResponseTooLarge) + 1,
              "every ErrorCode has a name");

// The JS-visible name of an error code.
constexpr const char* codeName(ErrorCode code) { return kErrorCodeNames[static_cast<int>(code)]; }

// Why a session ended.
enum class EndReason : uint8_t {
  User,     // logout() was called
  Expired,  // the backend refused a refresh
  Remote,   // another tab logged out
};

constexpr const char* reasonName(EndReason reason) {
  constexpr const char* kNames[] = {"user", "expired", "remote"};
  return kNames[static_cast<int>(reason)];
}

}  // namespace cleanslate
