// One JSON object's members, read with nlohmann::json's lexer (see json.h).
#include "json.h"

#ifndef JSON_NOEXCEPTION
#define JSON_NOEXCEPTION 1
#endif
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace cleanslate {
namespace {

using Input = nlohmann::detail::iterator_input_adapter<const char*>;
using Lexer = nlohmann::detail::lexer<nlohmann::json, Input>;
using Token = Lexer::token_type;

// The grammar of RFC 8259 over nlohmann's tokens, iterative (no recursion
// however deep the input), for a document that must be an object. Members
// of the top-level object are collected; a nested object or array is kept
// as its raw text, cut out by the lexer's character count. Nothing here
// builds an exception or an error message: a failure is just `false`.
class Reader {
 public:
  Reader(const std::string& text, std::vector<JsonMember>* members)
      : text_(text), lexer_(Input(text.data(), text.data() + text.size())), members_(members) {}

  bool read() {
    if (lexer_.scan() != Token::begin_object) return false;
    depth_ = 1;
    objects_ = 1;
    bool opened = true;  // just after '{' or '['
    for (;;) {
      Token t = lexer_.scan();
      if (!(opened && t == closer())) {
        if (inObject()) {
          if (t != Token::value_string) return false;
          if (depth_ == 1) key_ = std::move(lexer_.get_string());
          if (lexer_.scan() != Token::name_separator) return false;
          t = lexer_.scan();
        } else if (t == Token::end_array || t == Token::end_object) {
          return false;
        }
        if (t == Token::begin_object || t == Token::begin_array) {
          if (depth_ == 1) {
            nestedStart_ = offset() - 1;
            nestedKind_ = t == Token::begin_object ? JsonKind::Object : JsonKind::Array;
          }
          if (++depth_ > kMaxJsonDepth) return false;
          const uint64_t bit = uint64_t{1} << (depth_ - 1);
          objects_ = t == Token::begin_object ? (objects_ | bit) : (objects_ & ~bit);
          opened = true;
          continue;
        }
        if (!scalar(t)) return false;
        t = lexer_.scan();
      }
      // After a value (or at the end of an empty container): a separator,
      // or closers back up the levels.
      while (t != Token::value_separator) {
        if (t != closer()) return false;
        if (--depth_ == 0) return lexer_.scan() == Token::end_of_input;
        if (depth_ == 1) {
          JsonMember member;
          member.kind = nestedKind_;
          member.value = text_.substr(nestedStart_, offset() - nestedStart_);
          add(std::move(member));
        }
        t = lexer_.scan();
      }
      opened = false;
    }
  }

 private:
  bool inObject() const { return (objects_ >> (depth_ - 1)) & 1; }
  Token closer() const { return inObject() ? Token::end_object : Token::end_array; }
  std::size_t offset() { return lexer_.get_position().chars_read_total; }

  bool scalar(Token t) {
    JsonMember member;
    switch (t) {
      case Token::literal_null: break;
      case Token::literal_true:
      case Token::literal_false:
        member.kind = JsonKind::Bool;
        member.value = t == Token::literal_true ? "true" : "false";
        break;
      case Token::value_string:
        member.kind = JsonKind::String;
        member.value = std::move(lexer_.get_string());
        break;
      case Token::value_unsigned:
        member.kind = JsonKind::Number;
        member.number = static_cast<double>(lexer_.get_number_unsigned());
        break;
      case Token::value_integer:
        member.kind = JsonKind::Number;
        member.number = static_cast<double>(lexer_.get_number_integer());
        break;
      case Token::value_float:
        member.kind = JsonKind::Number;
        member.number = lexer_.get_number_float();
        if (!std::isfinite(member.number)) return false;  // as nlohmann's parser: out of range
        break;
      default: return false;
    }
    if (depth_ == 1) add(std::move(member));
    return true;
  }

  // Adds a member to the top-level object, under the key read last.
  void add(JsonMember&& member) {
    member.key = std::move(key_);
    members_->push_back(std::move(member));
  }

  const std::string& text_;
  Lexer lexer_;
  std::vector<JsonMember>* members_;
  int depth_ = 0;
  uint64_t objects_ = 0;  // bit d-1: level d is an object (else an array)
  std::string key_;
  std::size_t nestedStart_ = 0;
  JsonKind nestedKind_ = JsonKind::Object;
};

// The letter of `c`'s two-character escape (\" \\ \b \f \n \r \t), or 0.
char shortEscape(unsigned char c) {
  switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '\b': return 'b';
    case '\f': return 'f';
    case '\n': return 'n';
    case '\r': return 'r';
    case '\t': return 't';
    default: return 0;
  }
}

}  // namespace

bool JsonObject::parse(const std::string& text) {
  members_.clear();
  // nlohmann's lexer skips a leading BOM and stops at a NUL byte; JSON.parse()
  // accepts neither, and raw text handed to JS must parse there too.
  const bool bom = text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0;
  if (bom || text.find('\0') != std::string::npos) return false;
  Reader reader(text, &members_);
  if (!reader.read()) {
    members_.clear();
    return false;
  }
  return true;
}

const JsonMember* JsonObject::find(const char* key) const {
  for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
    if (it->key == key) return &*it;
  }
  return nullptr;
}

const JsonMember* JsonObject::present(const char* key) const {
  const JsonMember* member = find(key);
  return member != nullptr && member->kind != JsonKind::Null ? member : nullptr;
}

bool JsonObject::string(const char* key, std::string* out) const {
  const JsonMember* member = find(key);
  if (member == nullptr || member->kind != JsonKind::String || member->value.empty()) return false;
  *out = member->value;
  return true;
}

bool JsonObject::object(const char* key, std::string* out) const {
  const JsonMember* member = find(key);
  if (member == nullptr || member->kind != JsonKind::Object) return false;
  *out = member->value;
  return true;
}

bool isJsonObject(const std::string& text) {
  JsonObject object;
  return object.parse(text);
}

std::string decimal(long long value) {
  char text[21];
  char* p = text + sizeof(text);
  // Digits of the magnitude as unsigned, so that LLONG_MIN has one too.
  unsigned long long magnitude =
      value < 0 ? 0ULL - static_cast<unsigned long long>(value) : static_cast<unsigned long long>(value);
  do {
    *--p = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (value < 0) *--p = '-';
  // Pointer and length: the (first, last) constructor would be inlined here (about 45 B gzip).
  return std::string(p, static_cast<std::size_t>(text + sizeof(text) - p));
}

std::string withDecimal(const char* before, long long value, const char* after) {
  return before + decimal(value) + after;
}

std::string jsonString(const std::string& text) {
  static const char* const hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      if (const char letter = shortEscape(c)) {
        out += '\\';
        out += letter;
      } else if (c < 0x20) {
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A multi-byte sequence: the allowed range of the second byte depends on
    // the first (no overlong forms, no surrogates, nothing past U+10FFFF).
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;
    }
    bool valid = length != 0 && i + length <= n && s[i + 1] >= low && s[i + 1] <= high;
    for (std::size_t k = 2; valid && k < length; ++k) valid = s[i + k] >= 0x80 && s[i + k] <= 0xBF;
    if (valid) {
      out.append(text, i, length);
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out += '"';
  return out;
}

}  // namespace cleanslate
