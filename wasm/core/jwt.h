// Reads the `exp` claim of a JWT access token without verifying it. A token
// it cannot decode is opaque: the session then relies on reactive refresh.
#pragma once

#include <optional>
#include <string>

namespace cleanslate {

// Decodes unpadded or padded base64url; nothing on any invalid character.
std::optional<std::string> base64UrlDecode(const std::string& in);

// `exp` in seconds since the epoch, or nothing when the token is not a JWT,
// the payload is not a JSON object, or `exp` is missing, not a number, or
// outside [1, 1e11] (absurd values are treated as absent).
std::optional<double> jwtExpiry(const std::string& token);

struct JwtTimes {
  double exp;                 // seconds since the epoch, by the issuer's clock
  std::optional<double> iat;  // the same, when the token says when it was issued
};
// `exp` and `iat` together (same rules as jwtExpiry; an odd `iat` is absent).
std::optional<JwtTimes> jwtTimes(const std::string& token);

}  // namespace cleanslate
