// Token storage: keys, rotation in one step, memory fallback on failure.
#include <doctest/doctest.h>

#include "core/token_store.h"
#include "fakes.h"

using cleanslate::TokenStore;
using cleanslate::testing::FakeStore;

TEST_CASE("tokens live under the contract's keys and clear together") {
  FakeStore store;
  std::vector<std::string> warnings;
  TokenStore tokens(&store, [&](const std::string& w) { warnings.push_back(w); });
  tokens.store("a1", "r1", R"({"id":1})");
  CHECK(store.values["access_token"] == "a1");
  CHECK(store.values["refresh_token"] == "r1");
  CHECK(store.values["cleanslate_user"] == R"({"id":1})");
  tokens.rotate("a2", "r2");
  CHECK(tokens.access() == "a2");
  CHECK(tokens.refresh() == "r2");
  tokens.clear();
  CHECK(store.values.empty());
  CHECK_FALSE(tokens.hasTokens());
  CHECK(warnings.empty());
}

TEST_CASE("a store that throws on write moves the session to memory with one warning") {
  FakeStore store;
  std::vector<std::string> warnings;
  TokenStore tokens(&store, [&](const std::string& w) { warnings.push_back(w); });
  tokens.store("a1", "r1", "{}");
  store.full = true;
  tokens.rotate("a2", "r2");
  CHECK(tokens.access() == "a2");
  CHECK(tokens.refresh() == "r2");
  CHECK(tokens.inMemoryFallback());
  tokens.rotate("a3", "r3");
  CHECK(tokens.access() == "a3");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("QuotaExceededError") != std::string::npos);
  CHECK(store.values.count("refresh_token") == 0);  // nothing stale left behind
  tokens.clear();
  CHECK_FALSE(tokens.hasTokens());
}

TEST_CASE("a store that throws on read falls back too, and never crashes") {
  FakeStore store;
  store.blocked = true;
  std::vector<std::string> warnings;
  TokenStore tokens(&store, [&](const std::string& w) { warnings.push_back(w); });
  CHECK(tokens.access().empty());
  tokens.store("a", "r", "{}");
  CHECK(tokens.access() == "a");
  CHECK(warnings.size() == 1);
}
