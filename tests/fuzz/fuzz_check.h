// Shared by the libFuzzer targets in tests/fuzz/: FUZZ_CHECK (an invariant
// that aborts with a message, so libFuzzer records the input as a crash) and
// an origin reader written independently of wasm/core/url.cpp, used as the
// second opinion on which URLs may carry credentials.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#define FUZZ_CHECK(cond, msg)                                                                   \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n  %s\n", __FILE__, __LINE__, #cond, \
                   std::string(msg).c_str());                                                   \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)

namespace fuzzcheck {

// The origin a browser's URL parser would give an absolute http(s) URL, as
// "scheme://host:port" with the port always written out, or nothing when the
// URL is not a plain one (anything where a browser might strip, decode, map
// or reinterpret characters). Unlike parseOrigin it reads userinfo the way a
// browser does (the host is after the last '@'), percent-decodes the host,
// treats '\' as a path separator and accepts an empty port: so a URL that
// parseOrigin calls same-origin but a browser would send elsewhere shows up
// as a difference.
inline std::optional<std::string> browserOrigin(const std::string& input) {
  // As the WHATWG URL parser starts: trim leading and trailing C0 controls
  // and spaces, then drop every tab, CR and LF.
  std::size_t first = 0;
  std::size_t last = input.size();
  while (first < last && static_cast<unsigned char>(input[first]) <= 0x20) ++first;
  while (last > first && static_cast<unsigned char>(input[last - 1]) <= 0x20) --last;
  std::string url;
  for (std::size_t k = first; k < last; ++k) {
    if (input[k] != '\t' && input[k] != '\r' && input[k] != '\n') url.push_back(input[k]);
  }
  std::size_t i = 0;
  std::string scheme;
  while (i < url.size() && ((url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z'))) {
    scheme.push_back(static_cast<char>(url[i] | 0x20));
    ++i;
  }
  if (scheme != "http" && scheme != "https") return std::nullopt;
  if (url.compare(i, 3, "://") != 0) return std::nullopt;
  i += 3;
  std::size_t end = i;
  while (end < url.size() && url[end] != '/' && url[end] != '?' && url[end] != '#' && url[end] != '\\') ++end;
  std::string authority = url.substr(i, end - i);
  for (char c : authority) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return std::nullopt;  // rejected, or mapped by IDNA: not plain
  }
  const auto at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  std::string host;
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = authority.substr(0, close + 1);
    const std::string rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return std::nullopt;
      port = rest.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  // Percent-decode and lower-case the host.
  std::string decoded;
  for (std::size_t k = 0; k < host.size(); ++k) {
    char c = host[k];
    if (c == '%') {
      if (k + 2 >= host.size()) return std::nullopt;
      const std::string hex = host.substr(k + 1, 2);
      char* stop = nullptr;
      const long v = std::strtol(hex.c_str(), &stop, 16);
      if (stop != hex.c_str() + 2 || v <= 0x20 || v >= 0x7f) return std::nullopt;
      c = static_cast<char>(v);
      k += 2;
    }
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
    decoded.push_back(c);
  }
  if (decoded.empty()) return std::nullopt;
  for (char c : decoded) {
    // Characters a browser rejects in a host (forbidden host code points).
    if (std::string("#%/:<>?@[\\]^|").find(c) != std::string::npos && decoded[0] != '[') return std::nullopt;
  }
  long portNumber = scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    if (port.size() > 8) return std::nullopt;
    portNumber = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return std::nullopt;
      portNumber = portNumber * 10 + (c - '0');
    }
    if (portNumber > 65535) return std::nullopt;
  }
  return scheme + "://" + decoded + ":" + std::to_string(portNumber);
}

}  // namespace fuzzcheck
