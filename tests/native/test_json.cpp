// The core's JSON layer: nlohmann's lexer read into one object's
// members, raw text of nested values, and the string-literal writer, checked
// against nlohmann's own DOM parser and serializer.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "core/json.h"
#include "json_dom.h"

using cleanslate::decimal;
using cleanslate::isJsonObject;
using cleanslate::JsonKind;
using cleanslate::JsonObject;
using cleanslate::jsonString;

TEST_CASE("members of one object, with kinds and values") {
  JsonObject o;
  REQUIRE(o.parse(R"( {"s":"x\u00e9\n","n":-12.5e1,"i":42,"u":18446744073709551615,"t":true,"f":false,"z":null,
                      "o":{ "a" : [1, {"b":2}] , "c":1},"a":[ ],"e":""} )"));
  REQUIRE(o.members().size() == 10);
  CHECK(o.find("s")->kind == JsonKind::String);
  CHECK(o.find("s")->value == "x\xC3\xA9\n");
  CHECK(o.find("n")->number == -125.0);
  CHECK(o.find("i")->number == 42.0);
  CHECK(o.find("u")->number == doctest::Approx(18446744073709551615.0));
  CHECK(o.find("t")->value == "true");
  CHECK(o.find("f")->value == "false");
  CHECK(o.find("z")->kind == JsonKind::Null);
  CHECK(o.present("z") == nullptr);
  CHECK(o.present("missing") == nullptr);
  std::string raw;
  REQUIRE(o.object("o", &raw));
  CHECK(raw == R"({ "a" : [1, {"b":2}] , "c":1})");
  CHECK(o.find("a")->kind == JsonKind::Array);
  CHECK(o.find("a")->value == "[ ]");
  std::string s;
  CHECK_FALSE(o.string("e", &s));  // empty strings count as absent
  CHECK_FALSE(o.string("n", &s));
  CHECK_FALSE(o.object("a", &raw));
}

TEST_CASE("raw text of nested values parses back to the same value") {
  const std::string text =
      R"({"user":{"id":7,"name":"A \"quoted\" }{ name","tags":["x",{"y":[1,2,3]}],"n":1},"after":1})";
  JsonObject o;
  REQUIRE(o.parse(text));
  std::string raw;
  REQUIRE(o.object("user", &raw));
  CHECK(cleanslate::parseJson(raw) == cleanslate::parseJson(text)["user"]);
  JsonObject inner;
  REQUIRE(inner.parse(raw));
  CHECK(inner.find("n")->number == 1.0);
  CHECK(inner.find("tags")->value == R"(["x",{"y":[1,2,3]}])");
}

TEST_CASE("a repeated key: the last one counts, as in nlohmann's DOM") {
  JsonObject o;
  REQUIRE(o.parse(R"({"k":"first","k":"second"})"));
  std::string v;
  REQUIRE(o.string("k", &v));
  CHECK(v == "second");
}

TEST_CASE("anything but one well-formed object is refused") {
  for (const char* text : {"",
                           " ",
                           "[]",
                           "[{\"a\":1}]",
                           "\"s\"",
                           "1",
                           "null",
                           "true",
                           "{",
                           "{\"a\":1",
                           "{\"a\":1}}",
                           "{\"a\":1} x",
                           "{\"a\":1}{}",
                           "{a:1}",
                           "{\"a\":01}",
                           "{\"a\":\"\xFF\"}",
                           "{\"a\":\"\xED\xA0\x80\"}",
                           "{\"a\":\"\x01\"}",
                           "{'a':1}",
                           "{\"a\":1,}",
                           "<html>"}) {
    CAPTURE(text);
    JsonObject o;
    CHECK_FALSE(o.parse(text));
    CHECK(o.members().empty());
    CHECK_FALSE(isJsonObject(text));
  }
}

TEST_CASE("a byte order mark or a NUL byte is refused, as JSON.parse() refuses them") {
  CHECK_FALSE(isJsonObject("\xEF\xBB\xBF{\"a\":1}"));
  CHECK_FALSE(isJsonObject(std::string("{\"a\":1}\0junk", 12)));
  CHECK_FALSE(isJsonObject(std::string("{\"a\":\"x\0y\"}", 12)));
  CHECK(isJsonObject("{\"a\":\"\xEF\xBB\xBF\"}"));  // inside a string it is just a character
}

TEST_CASE("nesting: 64 levels are read, 65 are refused without recursion") {
  auto nested = [](int levels) {
    std::string text = "{\"a\":";
    for (int i = 1; i < levels; ++i) text += "[";
    text += "0";
    for (int i = 1; i < levels; ++i) text += "]";
    return text + "}";
  };
  CHECK(isJsonObject(nested(cleanslate::kMaxJsonDepth)));
  CHECK_FALSE(isJsonObject(nested(cleanslate::kMaxJsonDepth + 1)));
  CHECK_FALSE(isJsonObject(nested(200000)));
  // Brackets inside strings are text, not nesting.
  CHECK(isJsonObject("{\"a\":\"" + std::string(1000, '[') + "\"}"));
}

TEST_CASE("jsonString writes what nlohmann's serializer writes, for every valid UTF-8 string") {
  std::mt19937 rng(20261130);
  const std::u32string alphabet = U"aZ09 \"\\/\b\f\n\r\t\x01\x1f\x7f\u00e9\u07ff\u0800\uffff\U00010000\U0010ffff";
  auto utf8 = [](char32_t c) {
    std::string out;
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
    return out;
  };
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int length = static_cast<int>(rng() % 24);
    for (int i = 0; i < length; ++i) text += utf8(alphabet[rng() % alphabet.size()]);
    CAPTURE(text);
    CHECK(jsonString(text) == cleanslate::Json(text).dump());
  }
  for (char c = 0; c < 0x20; ++c) {
    const std::string one(1, c);
    CHECK(jsonString(one) == cleanslate::Json(one).dump());
  }
}

TEST_CASE("jsonString replaces bytes that are not UTF-8, and the result always parses") {
  CHECK(jsonString("a\xFF"
                   "b") ==
        "\"a\xEF\xBF\xBD"
        "b\"");
  CHECK(jsonString("\xC0\xAF") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // overlong
  CHECK(jsonString("\xED\xA0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  CHECK(jsonString("\xF4\x90\x80\x80").find("\xEF\xBF\xBD") != std::string::npos);  // past U+10FFFF
  CHECK(jsonString("\xE2\x82") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // cut short at the end
  std::mt19937 rng(7);
  for (int round = 0; round < 5000; ++round) {
    std::string bytes;
    const int length = static_cast<int>(rng() % 12);
    for (int i = 0; i < length; ++i) bytes += static_cast<char>(rng() & 0xFF);
    const std::string literal = jsonString(bytes);
    CAPTURE(bytes);
    const cleanslate::Json back = cleanslate::Json::parse("[" + literal + "]", nullptr, false);
    REQUIRE_FALSE(back.is_discarded());
    // Input comes back unchanged unless something in it was replaced.
    if (back[0] != bytes) CHECK(literal.find("\xEF\xBF\xBD") != std::string::npos);
  }
}

TEST_CASE("accepts exactly what nlohmann's DOM parser accepts as an object (random token soup)") {
  const char* const pieces[] = {"{",           "}",  "[",      "]",       ",",   ":",    "\"k\"", "\"v\\n\"",
                                "\"\\u00e9\"", "1",  "-2.5e3", "1e400",   "01",  "true", "false", "null",
                                " ",           "\"", "tru",    "{\"a\":", "[1,", "]}"};
  std::mt19937 rng(31);
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = rng() % 4 == 0 ? "" : "{";
    const int length = static_cast<int>(rng() % 14);
    for (int i = 0; i < length; ++i) text += pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))];
    if (rng() % 2 == 0) text += "}";
    const cleanslate::Json dom = cleanslate::Json::parse(text, nullptr, false);
    const bool expected = !dom.is_discarded() && dom.is_object() && cleanslate::nestingWithinLimit(text);
    JsonObject o;
    CAPTURE(text);
    REQUIRE(o.parse(text) == expected);
    if (!expected) continue;
    ++accepted;
    CHECK(o.members().size() >= dom.size());  // a repeated key is one DOM member
    for (const auto& item : dom.items()) {
      const cleanslate::JsonMember* member = o.find(item.key().c_str());
      REQUIRE(member != nullptr);
      const cleanslate::Json& value = item.value();
      switch (member->kind) {
        case JsonKind::String: CHECK(value == member->value); break;
        case JsonKind::Number: CHECK(value.get<double>() == member->number); break;
        case JsonKind::Object:
        case JsonKind::Array: CHECK(cleanslate::Json::parse(member->value) == value); break;
        case JsonKind::Bool: CHECK(value.dump() == member->value); break;
        case JsonKind::Null: CHECK(value.is_null()); break;
      }
    }
  }
  CHECK(accepted > 100);  // the soup does produce valid objects
}

TEST_CASE("raw text is cut exactly, whatever precedes the closing bracket") {
  JsonObject o;
  REQUIRE(o.parse(R"({"u":{"a":1},"v":[1.5],"w":[true],"x":{"s":"}"},"y":[[],{}]})"));
  CHECK(o.find("u")->value == R"({"a":1})");
  CHECK(o.find("v")->value == "[1.5]");
  CHECK(o.find("w")->value == "[true]");
  CHECK(o.find("x")->value == R"({"s":"}"})");
  CHECK(o.find("y")->value == "[[],{}]");
  for (const char* bad : {R"({"a":[1,]})", R"({"a":[}})", R"({"a":1e400})", R"({"a":{"b"}})", R"({"a":[1 2]})"}) {
    CAPTURE(bad);
    CHECK_FALSE(isJsonObject(bad));
  }
}

TEST_CASE("decimal writes what std::to_string writes") {
  for (long long v : {0LL, 1LL, -1LL, 9LL, 10LL, 401LL, -503LL, 2147483647LL, 4294967295LL, 1733000000000LL,
                      9223372036854775807LL, -9223372036854775807LL - 1}) {
    CAPTURE(v);
    CHECK(decimal(v) == std::to_string(v));
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    const auto v = static_cast<long long>(rng());
    CHECK(decimal(v) == std::to_string(v));
    CHECK(decimal(v >> (i % 63)) == std::to_string(v >> (i % 63)));
  }
}
