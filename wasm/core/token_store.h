// Holds the session's tokens and user in the configured storage, under the
// keys `access_token`, `refresh_token` and `cleanslate_user`, and the hash of
// the last user's id under `cleanslate_last_user` (CONTRACT.md §5.2). Reads go
// through to storage so that another tab's rotation is seen. When storage
// throws (quota, SecurityError), it moves to memory with one warning and
// keeps working.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "interfaces.h"

namespace cleanslate {

class MemoryStore final : public KeyValueStore {
 public:
  StoreStatus get(const std::string& key, std::string* value) override;
  bool set(const std::string& key, const std::string& value) override;
  bool remove(const std::string& key) override;

 private:
  std::pair<std::string, std::string>* entry(const std::string& key);
  std::vector<std::pair<std::string, std::string>> values_;
};

class TokenStore {
 public:
  static constexpr const char* kAccessKey = "access_token";
  static constexpr const char* kRefreshKey = "refresh_token";
  static constexpr const char* kUserKey = "cleanslate_user";
  static constexpr const char* kLastUserKey = "cleanslate_last_user";

  using Warn = Callback<void(const std::string&)>;
  TokenStore(KeyValueStore* backing, Warn warn);

  std::string access();
  std::string refresh();
  std::string userJson();  // "" when none
  bool hasTokens() { return !access().empty() || !refresh().empty(); }

  // Writes a whole session at once: the new refresh token replaces the old
  // one in the same step as the access token.
  void store(const std::string& access, const std::string& refresh, const std::string& userJson);
  void rotate(const std::string& access, const std::string& refresh);
  void clear();
  // The hash of the last user this origin saw with no reset since ("" when
  // none): it outlives the tokens, which may end without a reset (a session
  // that expired while every tab was closed).
  std::string lastUser() { return read(kLastUserKey); }
  void setLastUser(const std::string& hash) { write(kLastUserKey, hash); }
  void forgetLastUser() { erase(kLastUserKey); }
  bool inMemoryFallback() const { return fallback_ != nullptr; }

 private:
  // A key comes as a C string and is made a std::string once in each of
  // these, rather than at every KeyValueStore call they make.
  std::string read(const char* key);
  void write(const char* key, const std::string& value);
  void erase(const char* key);
  void fallBack(const std::string& why);
  KeyValueStore* active() { return fallback_ ? fallback_.get() : backing_; }

  KeyValueStore* backing_;
  std::unique_ptr<MemoryStore> fallback_;
  Warn warn_;
};

}  // namespace cleanslate
