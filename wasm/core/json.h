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

// Parses `text`; a discarded value (is_discarded()) on any error.
inline Json parseJson(const std::string& text) {
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
