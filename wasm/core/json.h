// nlohmann::json used without exceptions: parsing never throws (a failure is
// a discarded value) and fields are read only after their type is checked.
#pragma once

#ifndef JSON_NOEXCEPTION
#define JSON_NOEXCEPTION 1
#endif
#include <nlohmann/json.hpp>

#include <string>

namespace cleanslate {

using Json = nlohmann::json;

// Deepest nesting of arrays and objects accepted. Serialising a value
// recurses once per level, and the wasm stack is small: anything deeper is
// refused before it is parsed.
inline constexpr int kMaxJsonDepth = 64;

// True when `text` nests arrays/objects no deeper than kMaxJsonDepth
// (brackets inside strings do not count).
inline bool nestingWithinLimit(const std::string& text) {
  int depth = 0;
  bool inString = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      if (c == '\\') {
        ++i;  // skip the escaped character
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

// Parses `text`; a discarded value (is_discarded()) on any error, including
// nesting deeper than kMaxJsonDepth.
inline Json parseJson(const std::string& text) {
  if (!nestingWithinLimit(text)) return Json(Json::value_t::discarded);
  return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

// The non-empty string member `key` of `object`, or false.
inline bool stringField(const Json& object, const char* key, std::string* out) {
  if (!object.is_object()) return false;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return false;
  const auto& value = it->get_ref<const std::string&>();
  if (value.empty()) return false;
  *out = value;
  return true;
}

// Serialises without throwing on invalid UTF-8 (replaced with U+FFFD).
inline std::string dumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace cleanslate
