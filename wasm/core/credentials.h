// The tokens as this tab holds them. Storage may be shared with other tabs,
// so what it shows counts only while this tab holds a session (`active`):
// it may show a session this tab has not joined yet, or one that has ended.
#pragma once

#include <string>

#include "config.h"
#include "token_store.h"

namespace cleanslate {

class Credentials {
 public:
  Credentials(KeyValueStore* store, StorageMode mode, TokenStore::Warn warn)
      : tokens(store, std::move(warn)), mode_(mode) {
    active = tokens.hasTokens();
  }

  // The access token of the session held, or empty. A stored token that
  // could not be sent as a header (CR, LF, NUL: storage is writable by any
  // script of the origin) counts as absent.
  std::string heldAccess();
  std::string heldRefresh() { return active ? tokens.refresh() : std::string(); }
  // Whether the other tabs of the origin read the same storage.
  bool shared() const { return mode_ == StorageMode::Local && !tokens.inMemoryFallback(); }
  // "localStorage", "sessionStorage" or "memory", for log lines.
  const char* storageName() const;

  TokenStore tokens;
  bool active = false;     // a session is held (known in memory, whatever storage says now)
  std::string ownRefresh;  // the refresh token this tab itself last wrote

 private:
  StorageMode mode_;
};

}  // namespace cleanslate
