// Web Storage for the native tests and the fuzz targets (part of the fakes
// of fakes.h; no test framework here), failing as a browser fails it: `blocked` is a SecurityError (every
// call throws), `full` a QuotaExceededError (only writes throw).
#pragma once

#include <functional>
#include <map>
#include <string>

#include "core/interfaces.h"

namespace cleanslate::testing {

class FakeStore final : public KeyValueStore {
 public:
  StoreStatus get(const std::string& key, std::string* value) override {
    if (blocked) return StoreStatus::Failed;
    const auto it = values.find(key);
    if (it == values.end()) return StoreStatus::Missing;
    *value = it->second;
    return StoreStatus::Ok;
  }
  bool set(const std::string& key, const std::string& value) override {
    if (blocked || full) return false;
    if (onSet) onSet(key, value);
    values[key] = value;
    return true;
  }
  bool remove(const std::string& key) override {
    if (blocked) return false;
    values.erase(key);
    return true;
  }
  std::string lastError() const override { return blocked ? "SecurityError" : "QuotaExceededError"; }

  std::map<std::string, std::string> values;
  bool blocked = false;
  bool full = false;
  std::function<void(const std::string&, const std::string&)> onSet;
};

}  // namespace cleanslate::testing
