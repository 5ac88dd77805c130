// Test fixture shared by the doctest suite and the fuzz targets: base64url
// encoding and unsigned JWTs with a chosen payload. No test framework here.
#pragma once

#include <string>

namespace cleanslate::testing {

// base64url without padding.
inline std::string b64url(const std::string& in) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char ch : in) {
    buffer = (buffer << 8) | static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(table[(buffer >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(table[(buffer << (6 - bits)) & 63]);
  return out;
}

// A JWT with this payload, an HS256 header and a dummy signature.
inline std::string makeJwt(const std::string& payloadJson) {
  return b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(payloadJson) + ".c2ln";
}

}  // namespace cleanslate::testing
