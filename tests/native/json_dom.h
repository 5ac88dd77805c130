// nlohmann::json's DOM for test assertions (the core itself reads JSON with
// nlohmann's lexer in wasm/core/json.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

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

}  // namespace cleanslate
