// What the session units share about the wire: the auth requests they build,
// the JSON members they read, the codes transport failures map to, and the
// token fingerprints tabs name sessions by.
#pragma once

#include <optional>
#include <string>

#include "config.h"
#include "errors.h"
#include "interfaces.h"
#include "json.h"

namespace cleanslate {

// How a call through the pipeline ended: `error` empty means it was
// answered, and `response` holds the HTTP response (any status).
struct CallResult {
  std::optional<ErrorCode> error;
  HttpResponse response;
};
using CallDone = Callback<void(CallResult&&)>;  // by reference: no copy or move per hop

// Another tab's write to shared storage can show up here a moment after its
// message: polled this often, this many times (a second).
constexpr double kStoragePollMs = 20;
constexpr int kStoragePolls = 50;

// A request to one of the auth endpoints (`path` relative to apiBase), with
// the no-cache headers, bounded by the core's own timer (see interfaces.h).
HttpRequest authRequest(const Config& config, const char* method, const std::string& path);
// Appends one header. Every header the core adds goes through here: each
// other argument type given to Headers::emplace_back would bring its own
// copy of the vector's growth code (together about 130 B gzip).
void addHeader(Headers* headers, const std::string& name, const std::string& value);
// Adds Cache-Control, Pragma and Expires, as every request to apiBase has.
void addNoCacheHeaders(Headers* headers);
// The body of POST /auth/refresh and of POST /auth/logout.
std::string refreshBody(const std::string& refreshToken);

// An auth answer over its cap is one the core does not understand; an API
// answer over its cap is the caller's to know about.
ErrorCode transportCode(TransportError error, bool authAnswer);

// The non-empty string member `key` of the JSON object `text`.
bool parsedString(const std::string& text, const char* key, std::string* out);
// The finite number member `key` of a JSON object.
std::optional<double> numberMember(const JsonObject& object, const char* key);

// A short, non-reversible fingerprint of a token, so tabs can tell which
// token another tab means without the token itself crossing the channel.
std::string fingerprint(const std::string& token);

// What the "last user" marker holds (CONTRACT.md §5.2): a fingerprint of the
// user's id, never the id; "" when the user object names no id or email.
std::string userHash(const std::string& userJson);

}  // namespace cleanslate
