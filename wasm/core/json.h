// JSON for the session core. Every document the core reads (server answers,
// options, JWT claims, tab messages) is read with nlohmann::json's lexer
// into the members of one top-level object, without building a DOM: a nested
// object or array is kept as its raw text (already validated), and can be
// parsed again the same way. The only JSON the core writes is string
// literals (jsonString), integers (decimal) and objects assembled from them
// and raw members.
// No exceptions: a parse failure is a `false`, never a throw.
#pragma once

#include <string>
#include <vector>

namespace cleanslate {

// Deepest nesting of arrays and objects accepted (the top-level object is
// level 1).
inline constexpr int kMaxJsonDepth = 64;

enum class JsonKind : unsigned char { Null, Bool, Number, String, Object, Array };

struct JsonMember {
  std::string key;
  JsonKind kind = JsonKind::Null;
  // String: the decoded value. Object/Array: the member's raw JSON text.
  // Bool: "true" or "false". Null/Number: empty.
  std::string value;
  double number = 0;
};

class JsonObject {
 public:
  // Parses `text`, which must be one JSON object nesting no deeper than
  // kMaxJsonDepth, as RFC 8259 and JSON.parse() have it: no byte order mark
  // and no NUL byte (nlohmann's lexer would take either). False (and no
  // members) otherwise.
  bool parse(const std::string& text);

  // The member named `key` (the last one when a key repeats), or nullptr.
  const JsonMember* find(const char* key) const;
  // The member `key` when it is present and not null.
  const JsonMember* present(const char* key) const;
  // The non-empty string member `key`.
  bool string(const char* key, std::string* out) const;
  // The raw text of the object member `key`.
  bool object(const char* key, std::string* out) const;

  const std::vector<JsonMember>& members() const { return members_; }

 private:
  std::vector<JsonMember> members_;
};

// `text` as a JSON string literal, quotes included. Bytes that are not
// valid UTF-8 become U+FFFD.
std::string jsonString(const std::string& text);

// `value` in decimal, as std::to_string writes it (which would bring
// libc++'s to_chars tables into the wasm for a few log lines).
std::string decimal(long long value);

// `value` in decimal between `before` and `after`, in one call where
// `before + decimal(value) + after` puts three calls and their temporaries
// at every message with a number in it (about 40 B gzip over the core's).
std::string withDecimal(const char* before, long long value, const char* after = "");

// True when `text` is a JSON object (within kMaxJsonDepth).
bool isJsonObject(const std::string& text);

}  // namespace cleanslate
