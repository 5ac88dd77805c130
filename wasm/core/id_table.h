// Id-keyed tables for the few live entries the session and the browser
// adapters keep (calls, logout notices, fetches, channels, locks,
// sessions). Each std::map instantiation brought its own red-black tree
// code into the wasm; here one non-template table over a sorted array does
// the lookups for all of them, and a thin typed wrapper owns the values.
// What it buys, measured: the same IdMap interface over a plain
// std::map<uint64_t, std::unique_ptr<V>> per type (and std::map<uint64_t,
// void*> for IdTable) makes the wasm about 2.6 KB gzip larger.
//
// Values live on the heap, so a reference to one stays valid while other
// entries come and go (as a map node would); erasing an entry destroys it.
// Callers that run callbacks re-find their entry by id afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace cleanslate {

class IdTable {
 public:
  IdTable() = default;
  IdTable(const IdTable&) = delete;
  IdTable& operator=(const IdTable&) = delete;
  ~IdTable();

  // The value under `id`, or nullptr.
  void* find(uint64_t id) const;
  // Adds (or replaces) the value under `id`; returns the one replaced, or nullptr.
  void* put(uint64_t id, void* value);
  // Removes the entry under `id` and returns its value, or nullptr.
  void* take(uint64_t id);
  // Removes the entry with the highest id and returns its value, or nullptr.
  void* takeLast();
  // Every id, ascending.
  std::vector<uint64_t> ids() const;
  // The lowest id, or 0 when empty.
  uint64_t firstId() const { return size_ == 0 ? 0 : entries_[0].id; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Entry {
    uint64_t id;
    void* value;
  };
  std::size_t lowerBound(uint64_t id) const;
  // A plain array rather than std::vector<Entry>: vector's insert and erase
  // are the biggest part of the code this replaces.
  Entry* entries_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// Owns one heap-allocated V per id.
template <typename V>
class IdMap {
 public:
  IdMap() = default;
  IdMap(const IdMap&) = delete;
  IdMap& operator=(const IdMap&) = delete;
  ~IdMap() {
    while (void* value = table_.takeLast()) delete static_cast<V*>(value);
  }

  V* find(uint64_t id) const { return static_cast<V*>(table_.find(id)); }
  // Stores a new V made from `args` under `id`, replacing any value there.
  template <typename... Args>
  V& emplace(uint64_t id, Args&&... args) {
    V* value = new V(std::forward<Args>(args)...);
    delete static_cast<V*>(table_.put(id, value));
    return *value;
  }
  std::unique_ptr<V> take(uint64_t id) { return std::unique_ptr<V>(static_cast<V*>(table_.take(id))); }
  // True when there was an entry to destroy.
  bool erase(uint64_t id) { return take(id) != nullptr; }
  std::vector<uint64_t> ids() const { return table_.ids(); }
  uint64_t firstId() const { return table_.firstId(); }
  std::size_t size() const { return table_.size(); }

 private:
  IdTable table_;
};

}  // namespace cleanslate
