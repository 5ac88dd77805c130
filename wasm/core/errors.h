// The error codes a caller can see (SessionError.code in JS) and the reasons
// a session ends (auth:logout's `reason`). Each enum has one name table; the
// strings are part of the public contract and never change.
#pragma once

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
    "network",         "timeout",          "session_changed", "session_expired", "bad_response",
    "csrf_unavailable", "disposed",        "invalid_argument", "invalid_credentials", "rate_limited",
    "server_error",    "http_error",       "superseded",      "response_too_large",
};

// The JS-visible name of an error code.
constexpr const char* codeName(ErrorCode code) { return kErrorCodeNames[static_cast<int>(code)]; }

// The names as constants, for code that handles them as strings (the
// bindings, the fuzz target's list of known codes).
namespace code {
inline constexpr const char* kNetwork = codeName(ErrorCode::Network);
inline constexpr const char* kTimeout = codeName(ErrorCode::Timeout);
inline constexpr const char* kSessionChanged = codeName(ErrorCode::SessionChanged);
inline constexpr const char* kSessionExpired = codeName(ErrorCode::SessionExpired);
inline constexpr const char* kBadResponse = codeName(ErrorCode::BadResponse);
inline constexpr const char* kCsrfUnavailable = codeName(ErrorCode::CsrfUnavailable);
inline constexpr const char* kDisposed = codeName(ErrorCode::Disposed);
inline constexpr const char* kInvalidArgument = codeName(ErrorCode::InvalidArgument);
inline constexpr const char* kInvalidCredentials = codeName(ErrorCode::InvalidCredentials);
inline constexpr const char* kRateLimited = codeName(ErrorCode::RateLimited);
inline constexpr const char* kServerError = codeName(ErrorCode::ServerError);
inline constexpr const char* kHttpError = codeName(ErrorCode::HttpError);
inline constexpr const char* kSuperseded = codeName(ErrorCode::Superseded);
inline constexpr const char* kResponseTooLarge = codeName(ErrorCode::ResponseTooLarge);
}  // namespace code

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
