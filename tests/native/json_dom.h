// nlohmann::json's DOM for test assertions (the core itself reads JSON with
// nlohmann's lexer in wasm/core/json.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/json.h"

namespace cleanslate {

using Json = nlohmann::json;

inline Json parseJson(const std::string& text) { return Json::parse(text, nullptr, /*allow_exceptions=*/false); }

inline bool stringField(const Json& object, const char* key, std::string* out) {
  if (!object.is_object()) return false;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) return false;
  *out = it->get<std::string>();
  return true;
}

// The depth oracle of the tests: true when `text` nests arrays/objects no
// deeper than kMaxJsonDepth (brackets inside strings do not count); exact
// for valid JSON.
inline bool nestingWithinLimit(const std::string& text) {
  int depth = 0;
  bool inString = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        inString = false;
      }
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace cleanslate
