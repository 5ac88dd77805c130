// libFuzzer target for wasm/core/jwt.cpp: base64UrlDecode and jwtExpiry on
// arbitrary bytes, plus jwtExpiry on a token whose payload is the input
// itself (so the fuzzer reaches the JSON claims directly).
//
// Invariants: a decoded value has the length the input implies and decodes
// back from its own re-encoding; an exp, when returned, is finite and in
// [1, 1e11]; a payload that is an object with such a numeric exp is read.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/jwt.h"
#include "fuzz_check.h"
#include "json_dom.h"
#include "jwt_fixture.h"

namespace {

using cleanslate::testing::b64url;

bool isAlphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '+' || c == '/';
}

void checkExp(const std::optional<double>& exp, const std::string& token) {
  if (!exp) return;
  FUZZ_CHECK(std::isfinite(*exp) && *exp >= 1 && *exp <= 1e11, "exp out of range for token " + token);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);

  // base64UrlDecode
  const auto decoded = cleanslate::base64UrlDecode(input);
  std::string stripped = input;
  while (!stripped.empty() && stripped.back() == '=') stripped.pop_back();
  bool valid = stripped.size() % 4 != 1;
  for (char c : stripped) valid = valid && isAlphabet(c);
  FUZZ_CHECK(decoded.has_value() == valid, "base64UrlDecode accepted/rejected the wrong input");
  if (decoded) {
    FUZZ_CHECK(decoded->size() == stripped.size() * 6 / 8, "decoded length does not match the input");
    const auto again = cleanslate::base64UrlDecode(b64url(*decoded));
    FUZZ_CHECK(again && *again == *decoded, "decode(b64url(x)) != x");
  }

  // jwtExpiry on the raw input.
  checkExp(cleanslate::jwtExpiry(input), input);

  // jwtExpiry on a token carrying the input as its payload: must agree with
  // a direct reading of the claims.
  const std::string token = "eyJhbGciOiJIUzI1NiJ9." + b64url(input) + ".c2ln";
  const auto exp = cleanslate::jwtExpiry(token);
  checkExp(exp, token);
  if (token.size() <= 16 * 1024) {
    // The core reads JSON as JSON.parse() does: no byte order mark, no NUL
    // byte (nlohmann's DOM parser takes both), nesting at most kMaxJsonDepth.
    const bool strict = input.find('\0') == std::string::npos && input.compare(0, 3, "\xEF\xBB\xBF") != 0 &&
                        cleanslate::nestingWithinLimit(input);
    const cleanslate::Json claims = cleanslate::parseJson(input);
    std::optional<double> expected;
    if (strict && claims.is_object()) {
      const auto it = claims.find("exp");
      if (it != claims.end() && it->is_number()) {
        const double v = it->get<double>();
        if (std::isfinite(v) && v >= 1 && v <= 1e11) expected = v;
      }
    }
    FUZZ_CHECK(exp == expected, "jwtExpiry disagrees with the claims for payload " + input);
  } else {
    FUZZ_CHECK(!exp, "a token over 16 KiB was read");
  }
  return 0;
}
