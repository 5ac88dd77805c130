// Shared wire helpers (see wire.h).
#include "wire.h"

#include <cmath>

#include "url.h"

namespace cleanslate {

HttpRequest authRequest(const Config& config, const char* method, const std::string& path) {
  HttpRequest request;
  request.method = method;
  request.url = resolveTarget(config.apiBase, config.apiOrigin, path).url;
  addNoCacheHeaders(&request.headers);
  request.maxResponseBytes = config.maxAuthResponseBytes;
  return request;
}

void addHeader(Headers* headers, const std::string& name, const std::string& value) {
  headers->emplace_back(name, value);
}

void addNoCacheHeaders(Headers* headers) {
  // A table, so that one addHeader call serves all three.
  static const char* const kNoCache[][2] = {
      {"Cache-Control", "no-cache, no-store, must-revalidate"}, {"Pragma", "no-cache"}, {"Expires", "0"}};
  for (const auto& header : kNoCache) addHeader(headers, header[0], header[1]);
}

std::string refreshBody(const std::string& refreshToken) {
  return "{\"refresh_token\":" + jsonString(refreshToken) + "}";
}

ErrorCode transportCode(TransportError error, bool authAnswer) {
  if (error == TransportError::TooLarge) return authAnswer ? ErrorCode::BadResponse : ErrorCode::ResponseTooLarge;
  return error == TransportError::Timeout ? ErrorCode::Timeout : ErrorCode::Network;
}

bool parsedString(const std::string& text, const char* key, std::string* out) {
  JsonObject object;
  return object.parse(text) && object.string(key, out);
}

std::optional<double> numberMember(const JsonObject& object, const char* key) {
  const JsonMember* it = object.find(key);
  if (it == nullptr || it->kind != JsonKind::Number || !std::isfinite(it->number)) return std::nullopt;
  return it->number;
}

std::string fingerprint(const std::string& token) {
  uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : token) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  static const char digits[] = "0123456789abcdef";
  char out[16];
  for (int i = 15; i >= 0; --i, hash >>= 4) out[i] = digits[hash & 15];
  return std::string(out, sizeof(out));
}

// An integer id is hashed as its decimal text, so 42 and 42.0 are one user;
// without an id, the email names the user.
std::string userHash(const std::string& userJson) {
  JsonObject user;
  std::string id;
  if (!user.parse(userJson)) return {};
  const JsonMember* member = user.present("id");
  if (member != nullptr && member->kind == JsonKind::Number && std::trunc(member->number) == member->number &&
      std::fabs(member->number) < 9.0e15) {
    id = decimal(static_cast<long long>(member->number));
  } else if (!user.string("id", &id) && !user.string("email", &id)) {
    return {};
  }
  return fingerprint("user:" + id);
}

}  // namespace cleanslate
