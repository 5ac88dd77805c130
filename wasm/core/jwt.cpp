// JWT `exp` decoding (see jwt.h).
#include "jwt.h"

#include <cmath>

#include "json.h"

namespace cleanslate {
namespace {
constexpr std::size_t kMaxTokenBytes = 16 * 1024;

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-' || c == '+') return 62;
  if (c == '_' || c == '/') return 63;
  return -1;
}

// Decodes base64url text[0, size), padded or not, into `out`; false on an
// invalid character or length.
bool decodeBase64Url(const char* text, std::size_t size, std::string* out) {
  while (size > 0 && text[size - 1] == '=') --size;
  if (size % 4 == 1) return false;
  out->reserve(size * 3 / 4);
  unsigned buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < size; ++i) {
    const int v = sextet(text[i]);
    if (v < 0) return false;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return true;
}

// A finite NumericDate claim within [1, 1e11], or nothing.
std::optional<double> timeClaim(const JsonObject& claims, const char* name) {
  const JsonMember* it = claims.find(name);
  if (it == nullptr || it->kind != JsonKind::Number) return std::nullopt;
  const double value = it->number;
  if (!std::isfinite(value) || value < 1 || value > 1e11) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::string> base64UrlDecode(const std::string& in) {
  std::string out;
  if (!decodeBase64Url(in.data(), in.size(), &out)) return std::nullopt;
  return out;
}

std::optional<JwtTimes> jwtTimes(const std::string& token) {
  if (token.size() > kMaxTokenBytes) return std::nullopt;
  const auto first = token.find('.');
  if (first == std::string::npos) return std::nullopt;
  const auto second = token.find('.', first + 1);
  if (second == std::string::npos || token.find('.', second + 1) != std::string::npos) return std::nullopt;
  std::string payload;
  JsonObject claims;
  if (!decodeBase64Url(token.data() + first + 1, second - first - 1, &payload) || !claims.parse(payload)) {
    return std::nullopt;
  }
  const auto exp = timeClaim(claims, "exp");
  if (!exp) return std::nullopt;
  return JwtTimes{*exp, timeClaim(claims, "iat")};
}

std::optional<double> jwtExpiry(const std::string& token) {
  const auto times = jwtTimes(token);
  return times ? std::optional<double>(times->exp) : std::nullopt;
}

}  // namespace cleanslate
