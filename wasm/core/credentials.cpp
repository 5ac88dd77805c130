// The tokens this tab holds (see credentials.h).
#include "credentials.h"

namespace cleanslate {

std::string Credentials::heldAccess() {
  if (!active) return {};
  std::string access = tokens.access();
  return isHeaderValue(access) ? access : std::string();
}

const char* Credentials::storageName() const {
  if (tokens.inMemoryFallback()) return "memory";
  switch (mode_) {
    case StorageMode::Local: return "localStorage";
    case StorageMode::Session: return "sessionStorage";
    case StorageMode::Memory: return "memory";
  }
  return "memory";
}

}  // namespace cleanslate
