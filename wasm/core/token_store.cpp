// Token storage with a memory fallback (see token_store.h).
#include "token_store.h"

#include <string_view>
#include <utility>

namespace cleanslate {

// Three keys at most: a linear scan over pairs (the same vector type as
// Headers) costs the wasm less than a std::map of its own.
std::pair<std::string, std::string>* MemoryStore::entry(const std::string& key) {
  for (auto& value : values_) {
    if (value.first == key) return &value;
  }
  return nullptr;
}

StoreStatus MemoryStore::get(const std::string& key, std::string* value) {
  const auto* found = entry(key);
  if (found == nullptr) return StoreStatus::Missing;
  *value = found->second;
  return StoreStatus::Ok;
}

bool MemoryStore::set(const std::string& key, const std::string& value) {
  if (auto* found = entry(key)) {
    found->second = value;
  } else {
    values_.emplace_back(key, value);
  }
  return true;
}

bool MemoryStore::remove(const std::string& key) {
  if (auto* found = entry(key)) {
    if (found != &values_.back()) *found = std::move(values_.back());
    values_.pop_back();
  }
  return true;
}

TokenStore::TokenStore(KeyValueStore* backing, Warn warn) : backing_(backing), warn_(std::move(warn)) {}

std::string TokenStore::access() { return read(kAccessKey); }
std::string TokenStore::refresh() { return read(kRefreshKey); }
std::string TokenStore::userJson() { return read(kUserKey); }

void TokenStore::store(const std::string& access, const std::string& refresh, const std::string& userJson) {
  write(kAccessKey, access);
  write(kRefreshKey, refresh);
  write(kUserKey, userJson);
}

void TokenStore::rotate(const std::string& access, const std::string& refresh) {
  write(kRefreshKey, refresh);
  write(kAccessKey, access);
}

void TokenStore::clear() {
  erase(kAccessKey);
  erase(kRefreshKey);
  erase(kUserKey);
}

std::string TokenStore::read(const char* key) {
  std::string value;
  const StoreStatus status = active()->get(key, &value);
  if (status == StoreStatus::Failed) {
    fallBack(active()->lastError());
    return {};
  }
  return status == StoreStatus::Ok ? value : std::string();
}

void TokenStore::write(const char* name, const std::string& value) {
  const std::string key = name;
  if (active()->set(key, value)) return;
  // Only the backing store refuses a write (memory never does). Whatever it
  // still holds is abandoned: what can be read of it is carried over to
  // memory, then the value is written there.
  fallBack(active()->lastError());
  for (const char* carriedName : {kAccessKey, kRefreshKey, kUserKey, kLastUserKey}) {
    const std::string carriedKey = carriedName;
    std::string carried;
    backing_->get(carriedKey, &carried);
    backing_->remove(carriedKey);
    if (!carried.empty()) fallback_->set(carriedKey, carried);
  }
  fallback_->set(key, value);
}

void TokenStore::erase(const char* name) {
  const std::string key = name;
  if (!active()->remove(key)) fallBack(active()->lastError());
  if (fallback_) {
    fallback_->remove(key);
    backing_->remove(key);  // best effort: never leave a token behind
  }
}

void TokenStore::fallBack(const std::string& why) {
  if (fallback_) return;
  fallback_ = std::make_unique<MemoryStore>();
  std::string line = "[Auth] Storage unavailable (";
  line += why.empty() ? std::string_view("error") : std::string_view(why);
  line += "), keeping the session in memory";
  warn_(line);
}

}  // namespace cleanslate
