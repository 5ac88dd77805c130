// Origin parsing and target resolution (see url.h).
#include "url.h"

#include <cctype>

namespace cleanslate {
namespace {

bool isHostChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-'; }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
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

bool isHttpScheme(const std::string& url) {
  const std::string scheme = lower(url.substr(0, url.find(':')));
  return scheme == "http" || scheme == "https";
}

}  // namespace

std::optional<Origin> parseOrigin(const std::string& url) {
  const auto colon = url.find("://");
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  Origin origin;
  origin.scheme = lower(url.substr(0, colon));
  if (origin.scheme != "http" && origin.scheme != "https") return std::nullopt;
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    // Browsers strip tabs/newlines and treat '\' as '/': anything of that
    // kind makes the authority ambiguous, so the URL is not trusted.
    if (u <= 0x20 || u == 0x7f || c == '\\') return std::nullopt;
  }
  const std::size_t start = colon + 3;
  std::size_t end = url.find_first_of("/?#", start);
  if (end == std::string::npos) end = url.size();
  const std::string authority = url.substr(start, end - start);
  if (authority.empty()) return std::nullopt;

  std::string host;
  std::string portText;
  if (authority[0] == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = authority.substr(0, close + 1);
    for (std::size_t i = 1; i < close; ++i) {
      const char c = authority[i];
      if (std::isxdigit(static_cast<unsigned char>(c)) == 0 && c != ':' && c != '.') return std::nullopt;
    }
    const std::string rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return std::nullopt;
      portText = rest.substr(1);
      if (portText.empty()) return std::nullopt;
    }
  } else {
    const auto portSep = authority.find(':');
    host = authority.substr(0, portSep);
    if (portSep != std::string::npos) {
      portText = authority.substr(portSep + 1);
      if (portText.empty()) return std::nullopt;
    }
    if (host.empty()) return std::nullopt;
    for (char c : host) {
      if (!isHostChar(c)) return std::nullopt;  // '@', '%', ':' and the like
    }
    if (host.front() == '.' || host.back() == '.' || host.find("..") != std::string::npos) return std::nullopt;
  }
  origin.host = lower(host);
  if (portText.empty()) {
    origin.port = origin.scheme == "https" ? 443 : 80;
  } else {
    if (portText.size() > 5) return std::nullopt;
    int port = 0;
    for (char c : portText) {
      if (std::isdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
      port = port * 10 + (c - '0');
    }
    if (port <= 0 || port > 65535) return std::nullopt;
    origin.port = port;
  }
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
    out.readable = origin.has_value() || !(isHttpScheme(out.url) || hasAmbiguousByte(out.url));
    return out;
  }
  std::string base = apiBase;
  while (!base.empty() && base.back() == '/') base.pop_back();
  out.url = base + (target.empty() || target[0] != '/' ? "/" : "") + target;
  out.sameOrigin = true;
  return out;
}

}  // namespace cleanslate
