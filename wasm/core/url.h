// Origin parsing and target resolution: decides which URLs belong to the
// apiBase origin and may therefore carry credentials. It fails closed: any
// URL it cannot read with certainty counts as another origin.
#pragma once

#include <optional>
#include <string>

namespace cleanslate {

struct Origin {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower-case; IPv6 keeps its brackets
  int port = 0;        // explicit or the scheme's default

  bool operator==(const Origin& other) const {
    return scheme == other.scheme && host == other.host && port == other.port;
  }
};

// `text` with its ASCII letters lower-cased, as schemes, hosts and header
// names compare.
std::string asciiLower(std::string text);

// The origin of an absolute http(s) URL, or nothing when the URL is not one,
// or holds anything that could make a browser read its authority differently
// (userinfo, backslashes, whitespace, percent-escapes, stray characters).
std::optional<Origin> parseOrigin(const std::string& url);

// True when `target` is an absolute URL ("scheme:...") or protocol-relative ("//host").
bool isAbsoluteTarget(const std::string& target);

struct ResolvedTarget {
  std::string url;
  bool sameOrigin = false;  // same origin as apiBase: credentials may be attached
  // False for an absolute URL the core cannot read with certainty: control
  // characters, spaces or backslashes anywhere (browsers strip or reinterpret
  // them), or an http(s) URL whose origin parseOrigin() cannot read
  // (userinfo, escapes, an empty host). A browser might still send it to
  // apiBase, with whatever headers the caller gave it, so it is not sent.
  bool readable = true;
};

// Resolves a request target against apiBase. A relative path is always
// appended below apiBase (a leading '/' is added when missing, so a path
// can never turn into an authority).
ResolvedTarget resolveTarget(const std::string& apiBase, const Origin& apiOrigin, const std::string& target);

}  // namespace cleanslate
