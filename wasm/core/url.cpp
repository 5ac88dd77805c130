// Origin parsing and target resolution (see url.h).
#include "url.h"

#include <algorithm>
#include <cctype>

namespace cleanslate {
namespace {

// A host name: letters, digits, '-' and dots, no dot leading, trailing or
// doubled. Anything else ('@', '%', ':' and the like) is refused.
bool isHostName(const std::string& host) {
  if (host.empty() || host.front() == '.' || host.back() == '.' || host.find("..") != std::string::npos) return false;
  for (char c : host) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '-') return false;
  }
  return true;
}

// A network-path reference ("//host/..."), which takes the scheme of the base.
bool startsWithSlashes(const std::string& target) { return target.size() >= 2 && target[0] == '/' && target[1] == '/'; }

// A byte browsers strip or reinterpret inside a URL: controls, space, '\\'.
bool hasAmbiguousByte(const std::string& url) {
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '\\') return true;
  }
  return false;
}

// The scheme url[0, length), lower-cased, when it is http or https; "" otherwise.
std::string httpScheme(const std::string& url, std::size_t length) {
  std::string scheme = asciiLower(url.substr(0, length));
  return scheme == "http" || scheme == "https" ? scheme : std::string();
}

}  // namespace

std::string asciiLower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::optional<Origin> parseOrigin(const std::string& url) {
  const auto colon = url.find("://");
  // Browsers strip tabs/newlines and treat '\' as '/': anything of that
  // kind makes the authority ambiguous, so the URL is not trusted.
  if (colon == std::string::npos || hasAmbiguousByte(url)) return std::nullopt;
  Origin origin;
  origin.scheme = httpScheme(url, colon);
  if (origin.scheme.empty()) return std::nullopt;
  // The authority is url[start, end): a host, then ':' and a port or nothing.
  const std::size_t start = colon + 3;
  const std::size_t end = std::min(url.find_first_of("/?#", start), url.size());
  if (start == end) return std::nullopt;
  std::size_t hostEnd = 0;  // where the host ends
  const bool literal = url[start] == '[';
  if (literal) {
    // An IPv6 literal, brackets kept.
    const auto close = url.find(']', start);
    if (close >= end) return std::nullopt;
    for (std::size_t i = start + 1; i < close; ++i) {
      const char c = url[i];
      if (std::isxdigit(static_cast<unsigned char>(c)) == 0 && c != ':' && c != '.') return std::nullopt;
    }
    hostEnd = close + 1;
  } else {
    hostEnd = std::min(url.find(':', start), end);
  }
  if (hostEnd != end && url[hostEnd] != ':') return std::nullopt;
  origin.host = asciiLower(url.substr(start, hostEnd - start));
  if (!literal && !isHostName(origin.host)) return std::nullopt;
  if (hostEnd == end) {
    origin.port = origin.scheme == "https" ? 443 : 80;
    return origin;
  }
  const std::size_t digits = end - hostEnd - 1;
  if (digits == 0 || digits > 5) return std::nullopt;
  int port = 0;
  for (std::size_t i = hostEnd + 1; i < end; ++i) {
    if (std::isdigit(static_cast<unsigned char>(url[i])) == 0) return std::nullopt;
    port = port * 10 + (url[i] - '0');
  }
  if (port <= 0 || port > 65535) return std::nullopt;
  origin.port = port;
  return origin;
}

bool isAbsoluteTarget(const std::string& target) {
  if (startsWithSlashes(target)) return true;
  if (target.empty() || std::isalpha(static_cast<unsigned char>(target[0])) == 0) return false;
  for (char c : target) {
    if (c == ':') return true;
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

ResolvedTarget resolveTarget(const std::string& apiBase, const Origin& apiOrigin, const std::string& target) {
  ResolvedTarget out;
  if (isAbsoluteTarget(target)) {
    out.url = startsWithSlashes(target) ? apiOrigin.scheme + ":" + target : target;
    const auto origin = parseOrigin(out.url);
    out.sameOrigin = origin.has_value() && *origin == apiOrigin;
    // Readable: an origin parseOrigin reads, or a URL that is no http(s) one and has no ambiguous byte.
    out.readable = origin.has_value() || (httpScheme(out.url, out.url.find(':')).empty() && !hasAmbiguousByte(out.url));
    return out;
  }
  // apiBase without trailing '/'s (npos + 1 is 0: all of it is '/'s), then '/' and the target
  out.url = apiBase.substr(0, apiBase.find_last_not_of('/') + 1);
  if (target.empty() || target[0] != '/') out.url += '/';
  out.url += target;
  out.sameOrigin = true;
  return out;
}

}  // namespace cleanslate
