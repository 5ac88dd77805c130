// One JSON object's members, read by a small RFC 8259 lexer of our own (see
// json.h).
//
// Not nlohmann::json's lexer: that one is private API (nlohmann::detail),
// and it carries what only an error report needs: a message string for
// every failure (about 60, one per control character), a copy of every byte
// it reads (its "token string") and line/column counts. Nothing here shows
// an error, a failure is just `false`: this lexer makes the wasm about
// 2.2 KB gzip smaller than nlohmann's did. The native tests
// (tests/native/test_json.cpp) check that it accepts exactly the objects
// nlohmann's DOM parser accepts, with the same values, and the fuzzers drive
// it through every parse the core does.
#include "json.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace cleanslate {
namespace {

// The length of the well-formed UTF-8 sequence (2 to 4 bytes) starting at
// s[0] within `available` bytes, or 0: no overlong forms, no surrogates,
// nothing past U+10FFFF (Unicode's table 3-7, as nlohmann and browsers have
// it). ASCII is the caller's business.
std::size_t utf8SequenceLength(const unsigned char* s, std::size_t available) {
  const unsigned char c = s[0];
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
  if (length == 0 || length > available || s[1] < low || s[1] > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (s[k] < 0x80 || s[k] > 0xBF) return 0;
  }
  return length;
}

void appendUtf8(std::string* out, uint32_t c) {
  if (c < 0x80) {
    *out += static_cast<char>(c);
  } else if (c < 0x800) {
    *out += static_cast<char>(0xC0 | (c >> 6));
    *out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    *out += static_cast<char>(0xE0 | (c >> 12));
    *out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (c >> 18));
    *out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

enum class Token : unsigned char {
  BeginObject, EndObject, BeginArray, EndArray, NameSeparator, ValueSeparator,
  String, Number, True, False, Null, EndOfInput, Invalid,
};

bool isDigit(unsigned char c) { return c >= '0' && c <= '9'; }

// Splits the text into RFC 8259 tokens. Strings are decoded (escapes
// resolved, UTF-8 checked); numbers are converted with strtod, as nlohmann
// does (the wasm build links a compact strtod, wasm/platform). Anything
// JSON.parse() would refuse is Invalid, including a byte order mark and a
// NUL byte anywhere.
class Lexer {
 public:
  explicit Lexer(const std::string& text)
      : begin_(reinterpret_cast<const unsigned char*>(text.data())), p_(begin_), end_(begin_ + text.size()) {}

  Token scan() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
    if (p_ == end_) return Token::EndOfInput;
    switch (*p_++) {
      case '{': return Token::BeginObject;
      case '}': return Token::EndObject;
      case '[': return Token::BeginArray;
      case ']': return Token::EndArray;
      case ':': return Token::NameSeparator;
      case ',': return Token::ValueSeparator;
      case '"': return scanString() ? Token::String : Token::Invalid;
      case 't': return literal("rue") ? Token::True : Token::Invalid;
      case 'f': return literal("alse") ? Token::False : Token::Invalid;
      case 'n': return literal("ull") ? Token::Null : Token::Invalid;
      default: --p_; return scanNumber() ? Token::Number : Token::Invalid;
    }
  }

  // The decoded value of the last String token (may be moved from).
  std::string& string() { return string_; }
  // The value of the last Number token: always finite.
  double number() const { return number_; }
  // Bytes consumed: the offset just past the last token.
  std::size_t offset() const { return static_cast<std::size_t>(p_ - begin_); }

 private:
  bool literal(const char* rest) {
    for (; *rest != '\0'; ++rest, ++p_) {
      if (p_ == end_ || *p_ != static_cast<unsigned char>(*rest)) return false;
    }
    return true;
  }

  // Four hex digits of a \u escape, or -1.
  long hex4() {
    if (end_ - p_ < 4) return -1;
    long value = 0;
    for (int i = 0; i < 4; ++i) {
      const unsigned char c = *p_++;
      int digit;
      if (isDigit(c)) {
        digit = c - '0';
      } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        digit = (c | 0x20) - 'a' + 10;
      } else {
        return -1;
      }
      value = value * 16 + digit;
    }
    return value;
  }

  // After the opening quote.
  bool scanString() {
    string_.clear();
    for (;;) {
      if (p_ == end_) return false;
      const unsigned char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;  // control characters must be escaped (NUL too)
      if (c >= 0x80) {
        const std::size_t length = utf8SequenceLength(p_, static_cast<std::size_t>(end_ - p_));
        if (length == 0) return false;
        string_.append(reinterpret_cast<const char*>(p_), length);
        p_ += length;
        continue;
      }
      ++p_;
      if (c != '\\') {
        string_ += static_cast<char>(c);
        continue;
      }
      if (p_ == end_) return false;
      switch (*p_++) {
        case '"': string_ += '"'; break;
        case '\\': string_ += '\\'; break;
        case '/': string_ += '/'; break;
        case 'b': string_ += '\b'; break;
        case 'f': string_ += '\f'; break;
        case 'n': string_ += '\n'; break;
        case 'r': string_ += '\r'; break;
        case 't': string_ += '\t'; break;
        case 'u': {
          long code = hex4();
          if (code < 0 || (code >= 0xDC00 && code <= 0xDFFF)) return false;  // a low surrogate alone
          if (code >= 0xD800 && code <= 0xDBFF) {
            // A high surrogate: a low one must follow, as \uDC00..\uDFFF.
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            const long low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) return false;
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          appendUtf8(&string_, static_cast<uint32_t>(code));
          break;
        }
        default: return false;
      }
    }
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool scanNumber() {
    const unsigned char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_ || !isDigit(*p_)) return false;
    if (*p_++ != '0') skipDigits();
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!skipDigits()) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!skipDigits()) return false;
    }
    // strtod on a copy: the text after the token must not extend it.
    string_.assign(reinterpret_cast<const char*>(start), static_cast<std::size_t>(p_ - start));
    number_ = std::strtod(string_.c_str(), nullptr);
    return std::isfinite(number_);  // as nlohmann's parser: out of range is an error
  }

  // One or more digits.
  bool skipDigits() {
    const unsigned char* start = p_;
    while (p_ != end_ && isDigit(*p_)) ++p_;
    return p_ != start;
  }

  const unsigned char* begin_;
  const unsigned char* p_;
  const unsigned char* end_;
  std::string string_;
  double number_ = 0;
};

// The grammar of RFC 8259 over the lexer's tokens, iterative (no recursion
// however deep the input), for a document that must be an object. Members
// of the top-level object are collected; a nested object or array is kept
// as its raw text, cut out by the lexer's offsets.
class Reader {
 public:
  Reader(const std::string& text, std::vector<JsonMember>* members)
      : text_(text), lexer_(text), members_(members) {}

  bool read() {
    if (lexer_.scan() != Token::BeginObject) return false;
    depth_ = 1;
    objects_ = 1;
    bool opened = true;  // just after '{' or '['
    for (;;) {
      Token t = lexer_.scan();
      if (!(opened && t == closer())) {
        if (inObject()) {
          if (t != Token::String) return false;
          if (depth_ == 1) key_ = std::move(lexer_.string());
          if (lexer_.scan() != Token::NameSeparator) return false;
          t = lexer_.scan();
        } else if (t == Token::EndArray || t == Token::EndObject) {
          return false;
        }
        if (t == Token::BeginObject || t == Token::BeginArray) {
          if (depth_ == 1) {
            nestedStart_ = lexer_.offset() - 1;
            nestedKind_ = t == Token::BeginObject ? JsonKind::Object : JsonKind::Array;
          }
          if (++depth_ > kMaxJsonDepth) return false;
          const uint64_t bit = uint64_t{1} << (depth_ - 1);
          objects_ = t == Token::BeginObject ? (objects_ | bit) : (objects_ & ~bit);
          opened = true;
          continue;
        }
        if (!scalar(t)) return false;
        t = lexer_.scan();
      }
      // After a value (or at the end of an empty container): a separator,
      // or closers back up the levels.
      while (t != Token::ValueSeparator) {
        if (t != closer()) return false;
        if (--depth_ == 0) return lexer_.scan() == Token::EndOfInput;
        if (depth_ == 1) {
          members_->push_back(
              {std::move(key_), nestedKind_, text_.substr(nestedStart_, lexer_.offset() - nestedStart_), 0});
        }
        t = lexer_.scan();
      }
      opened = false;
    }
  }

 private:
  bool inObject() const { return (objects_ >> (depth_ - 1)) & 1; }
  Token closer() const { return inObject() ? Token::EndObject : Token::EndArray; }

  bool scalar(Token t) {
    JsonMember member{{}, JsonKind::Null, {}, 0};
    switch (t) {
      case Token::Null: break;
      case Token::True: member = {{}, JsonKind::Bool, "true", 0}; break;
      case Token::False: member = {{}, JsonKind::Bool, "false", 0}; break;
      case Token::String: member = {{}, JsonKind::String, std::move(lexer_.string()), 0}; break;
      case Token::Number: member = {{}, JsonKind::Number, {}, lexer_.number()}; break;
      default: return false;
    }
    if (depth_ == 1) {
      member.key = std::move(key_);
      members_->push_back(std::move(member));
    }
    return true;
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

}  // namespace

bool JsonObject::parse(const std::string& text) {
  members_.clear();
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
  unsigned long long magnitude = value < 0 ? 0ULL - static_cast<unsigned long long>(value) : static_cast<unsigned long long>(value);
  do {
    *--p = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (value < 0) *--p = '-';
  return std::string(p, text + sizeof(text));
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
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const std::size_t length = utf8SequenceLength(s + i, n - i);
    if (length != 0) {
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
